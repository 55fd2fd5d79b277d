/**
 * Splitting streamed text into lines, whatever the line ending (CRLF, LF or a lone CR), with a
 * bound on line length so a file that is not line-oriented text cannot exhaust memory.
 */
import { ValidationError } from '../../log/index.js';

/** Longest line accepted (French files have lines of a few hundred characters). */
export const MAX_LINE_CHARS = 1 << 20;

export class LineSplitter {
  private rest = '';
  private seen = 0;

  /** Feed text; returns the complete lines it finished (without their endings). */
  push(text: string): string[] {
    let buf = this.rest + text;
    // A CR at the very end may be the first half of a CRLF split across chunks: keep it.
    let held = '';
    if (buf.endsWith('\r')) {
      held = '\r';
      buf = buf.slice(0, -1);
    }
    const parts = buf.split(/\r\n|\n|\r/);
    this.rest = (parts.pop() ?? '') + held;
    this.seen += parts.length;
    if (this.rest.length > MAX_LINE_CHARS) {
      throw new ValidationError(`line ${this.seen + 1} is longer than ${MAX_LINE_CHARS} characters: this is not a Kenneth French CSV file`, {
        suggestion: 'check that the source is a French Data Library CSV (or a zip holding one)',
      });
    }
    return parts;
  }

  /** The last line, if the text did not end with a line ending. */
  end(): string[] {
    const last = this.rest.replace(/\r$/, '');
    this.rest = '';
    return last === '' ? [] : [last];
  }
}
