/** A file-system failure in words a user can act on ("no such file"), instead of a bare errno code. */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'ENOTDIR':
      return 'a folder on the path is a file';
    case 'EISDIR':
      return 'is a directory, expected a file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ERR_FS_FILE_TOO_LARGE':
      return 'file too large to read at once (over 2 GiB)';
    default:
      return `cannot read (${e instanceof Error ? e.message : String(e)})`;
  }
}
