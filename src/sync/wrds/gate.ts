/** A mutex for async work: one holder at a time, waiters served in arrival order. */
export class Gate {
  private held = false;
  private readonly waiting: (() => void)[] = [];

  /** Resolves, in order of calls, to a release function (calling it twice releases once). */
  async acquire(): Promise<() => void> {
    if (this.held) await new Promise<void>((r) => this.waiting.push(r));
    this.held = true;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.held = false;
    };
  }
}
