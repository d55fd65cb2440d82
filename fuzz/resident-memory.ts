import { readFileSync } from 'node:fs';

/** Resident memory of a process from /proc (Linux); 0 where there is no /proc, so only the other caps apply. */
export function residentBytes(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1]) * 4096;
  } catch {
    return 0;
  }
}
