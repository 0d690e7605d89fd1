/**
 * A progress line on stderr for long-running commands (`samsa produce` of a large input): messages and bytes so
 * far, the rate, and a bar when the total is known. On a terminal it redraws one line a few times a second and
 * clears it at the end; elsewhere (only when asked for with --progress) it prints a plain line every second, so logs
 * stay readable. Nothing is drawn during the first half second, so quick commands print no progress at all.
 */

export interface ProgressSample {
  messages: number;
  /** Payload bytes (keys and values). */
  bytes: number;
  /** Input bytes consumed, for the bar (when `total` is known). */
  done: number;
}

const TTY_INTERVAL_MS = 250;
const PLAIN_INTERVAL_MS = 1000;
const FIRST_DRAW_MS = 500;
const BAR = 20;

/** 1234567 -> "1,234,567". */
export const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Bytes in B, kB, MB, GB (powers of 1000). */
export function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

export class Progress {
  private readonly timer: NodeJS.Timeout;
  private readonly started = performance.now();
  private drawn = false;

  constructor(
    private readonly sample: () => ProgressSample,
    /** Input bytes in all, when known. */
    private readonly total: number | null,
    private readonly tty: boolean,
    private readonly out: NodeJS.WritableStream = process.stderr,
  ) {
    this.timer = setInterval(() => this.draw(), tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS);
    this.timer.unref();
  }

  private line(): string {
    const s = this.sample();
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? s.messages / seconds : 0;
    const parts = [`${count(s.messages)} messages`, bytes(s.bytes), `${count(rate)} msg/s`];
    if (this.total !== null && this.total > 0) {
      const share = Math.min(1, s.done / this.total);
      const filled = Math.round(share * BAR);
      parts.push(`[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${Math.floor(share * 100)}%`);
    }
    return parts.join('  ');
  }

  private draw(): void {
    if (performance.now() - this.started < FIRST_DRAW_MS) return;
    this.drawn = true;
    this.out.write(this.tty ? `\r\x1b[K${this.line()}` : `${this.line()}\n`);
  }

  /** Stops drawing and clears the line (on a terminal). */
  stop(): void {
    clearInterval(this.timer);
    if (this.drawn && this.tty) this.out.write('\r\x1b[K');
  }
}
