import { describe, expect, it } from 'vitest';
import type { Io } from '../src/main.js';
import { bytes, OperationProgress, TransferProgress } from '../src/progress.js';

function capture(isTTY: boolean) {
  let err = '';
  const io: Io = {
    out: () => {},
    err: (text) => {
      err += text;
    },
    env: {},
    isTTY,
    waitForStop: () => new Promise(() => {}),
  };
  return { io, err: () => err };
}

describe('progress displays', () => {
  it('formats byte counts in decimal units', () => {
    expect([0, 999, 1000, 12_345, 1_500_000, 987_654_321, 2.5e9].map(bytes)).toEqual([
      '0 B',
      '999 B',
      '1.00 kB',
      '12.3 kB',
      '1.50 MB',
      '988 MB',
      '2.50 GB',
    ]);
  });

  it('draws a transfer bar in place on a terminal: bytes, percent, rate and ETA', () => {
    let t = 0;
    const out = capture(true);
    const p = new TransferProgress(
      out.io,
      { doing: 'Uploading', did: 'Uploaded', what: 'model.onnx' },
      100e6,
      () => t,
    );
    t = 2000;
    p.update(25e6);
    expect(out.err()).toBe(
      `\rUploading model.onnx [${'█'.repeat(6)}${'░'.repeat(18)}]  25%  25.0 MB/100 MB  12.5 MB/s  ETA 6s\x1b[K`,
    );
    t = 2050;
    p.update(26e6); // redrawn at most 10 times a second
    expect(out.err().split('\r')).toHaveLength(2);
    t = 8000;
    p.finish(100e6);
    expect(out.err().endsWith('\rUploaded model.onnx: 100 MB in 8.0 s (12.5 MB/s)\x1b[K\n')).toBe(true);
  });

  it('prints plain lines every few seconds elsewhere, and a summary at the end', () => {
    let t = 0;
    const out = capture(false);
    const p = new TransferProgress(
      out.io,
      { doing: 'Uploading', did: 'Uploaded', what: 'm.onnx' },
      10e6,
      () => t,
      5000,
    );
    t = 1000;
    p.update(1e6); // a short transfer prints only its summary
    t = 6000;
    p.update(6e6);
    t = 7000;
    p.update(7e6);
    t = 11_000;
    p.update(9e6);
    p.finish(10e6);
    expect(out.err()).toBe(
      [
        'Uploading m.onnx: 6.00 MB/10.0 MB (60%), 1.00 MB/s  ETA 4s',
        'Uploading m.onnx: 9.00 MB/10.0 MB (90%), 818 kB/s  ETA 1s',
        'Uploaded m.onnx: 10.0 MB in 11.0 s (909 kB/s)',
        '',
      ].join('\n'),
    );
    expect(out.err()).not.toContain('\r');
  });

  it('shows an operation as a bar with its message, or one line per change', () => {
    const op = (progress: number, message: string, done = false) => ({
      done,
      metadata: { progress, message },
    });
    const tty = capture(true);
    const bar = new OperationProgress(tty.io, 'Deploying fraud-prod');
    bar.update(op(10, 'loading version 3'));
    bar.update({ ...op(100, '', true), result: { status_message: 'serving v3 100%' } });
    bar.finish();
    expect(tty.err()).toBe(
      `\rDeploying fraud-prod [${'█'.repeat(2)}${'░'.repeat(22)}]  10%  loading version 3\x1b[K` +
        `\rDeploying fraud-prod [${'█'.repeat(24)}] 100%  serving v3 100%\x1b[K\n`,
    );

    const plain = capture(false);
    const lines = new OperationProgress(plain.io, 'Deploying x');
    lines.update(op(5, 'resolving versions'));
    lines.update(op(5, 'resolving versions'));
    lines.update(op(10, 'loading version 2'));
    lines.update({ ...op(10, 'loading version 2', true), error: { message: 'no ONNX artifact' } });
    lines.finish();
    expect(plain.err()).toBe(
      'Deploying x: 5% resolving versions\nDeploying x: 10% loading version 2\nDeploying x: 10% failed: no ONNX artifact\n',
    );
  });
});
