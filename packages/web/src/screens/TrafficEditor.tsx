import type { Deployment, TrafficTarget, VersionRef } from '@quiver/sdk';
import { useState } from 'react';

interface Row {
  version: string;
  percent: number;
}

/** Edits the traffic split (a canary: e.g. 90 % to v3, 10 % to v4); shares must add up to 100. */
export function TrafficEditor({
  deployment,
  onApply,
}: {
  deployment: Deployment;
  onApply: (traffic: TrafficTarget[]) => void;
}) {
  const [rows, setRows] = useState<Row[]>(() =>
    deployment.traffic.map((t) => ({ version: String(t.version), percent: t.percent })),
  );
  const total = rows.reduce((sum, r) => sum + (Number.isFinite(r.percent) ? r.percent : 0), 0);
  const valid =
    rows.length > 0 && total === 100 && rows.every((r) => r.version.trim() !== '' && r.percent >= 0);
  const set = (i: number, patch: Partial<Row>) =>
    setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));

  return (
    <form
      className="card"
      aria-labelledby="traffic-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (!valid) return;
        onApply(rows.map((r) => ({ version: refOf(r.version), percent: r.percent })));
      }}
    >
      <h2 id="traffic-title">Traffic split</h2>
      <table className="compact">
        <thead>
          <tr>
            <th scope="col">Version (number or @alias)</th>
            <th scope="col">Percent</th>
            <th scope="col">
              <span className="sr-only">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity beyond their position while edited
            <tr key={i}>
              <td>
                <input
                  aria-label={`Version of row ${i + 1}`}
                  value={r.version}
                  onChange={(e) => set(i, { version: e.target.value })}
                />
              </td>
              <td>
                <input
                  aria-label={`Percent of row ${i + 1}`}
                  type="number"
                  min={0}
                  max={100}
                  value={r.percent}
                  onChange={(e) => set(i, { percent: Number(e.target.value) })}
                />
              </td>
              <td>
                <button
                  type="button"
                  className="link"
                  onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className={total === 100 ? 'muted' : 'error'} aria-live="polite">
        Total {total}%{total === 100 ? '' : ' (must be 100%)'}
      </p>
      <div className="buttons">
        <button
          type="button"
          onClick={() => setRows((rs) => [...rs, { version: '', percent: 0 }])}
          disabled={rows.length >= 10}
        >
          Add version
        </button>
        <button type="submit" className="primary" disabled={!valid}>
          Apply split
        </button>
      </div>
    </form>
  );
}

/** `4` → 4; `champion` or `@champion` → `@champion`. */
function refOf(text: string): VersionRef {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : `@${t.replace(/^@/, '')}`;
}
