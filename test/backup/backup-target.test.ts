/**
 * Target specs: which strings are rclone remotes, and that credentials in a spec or in rclone's
 * messages never reach an error or event.
 */
import { describe, expect, it } from 'vitest';
import { isRcloneSpec, redactSpec } from '../../src/backup/index.js';

describe('backup target specs', () => {
  it('tells rclone remotes from directories', () => {
    for (const s of ['b2:lab-wh', 'offsite:', 'sftp-nas:/backups/wh', ':local:/tmp/x', ':webdav,url=http://h:wh', 'my remote:x']) expect(isRcloneSpec(s), s).toBe(true);
    for (const s of ['/mnt/nas/wh', './backup', '../x:y', 'backups/wh', 'relative']) expect(isRcloneSpec(s), s).toBe(false);
  });

  it('redacts inline options and user:password in URLs', () => {
    expect(redactSpec(':webdav,url=http://h,user=u,pass=secret:wh')).toBe(':webdav,…:wh');
    expect(redactSpec('Failed to copy: Put "http://u:secret@127.0.0.1:8080/wh/x": EOF')).not.toContain('secret');
    expect(redactSpec('b2:lab-wh')).toBe('b2:lab-wh');
  });
});
