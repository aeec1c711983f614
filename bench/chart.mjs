// Throughput and p99 latency versus concurrent connections, as an SVG line chart (no dependencies).

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];

/**
 * series: [{ name, points: [{ connections, rps, p99 }] }]. Two panels side by side: req/s and
 * p99 ms, both against connections on a log scale (10 … 1000).
 */
export function stepChart(title, series) {
  const W = 980;
  const H = 420;
  const panel = { w: 400, h: 280, top: 60 };
  const lefts = [70, 560];
  const all = series.flatMap((s) => s.points);
  const conns = [...new Set(all.map((p) => p.connections))].sort((a, b) => a - b);
  const xOf = (c, left) => {
    const [lo, hi] = [Math.log10(conns[0]), Math.log10(conns.at(-1))];
    return left + (hi === lo ? 0 : ((Math.log10(c) - lo) / (hi - lo)) * panel.w);
  };
  const niceMax = (v) => {
    const p = 10 ** Math.floor(Math.log10(Math.max(v, 1)));
    return Math.ceil(v / p) * p;
  };
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<title>${xml(title)}</title>`,
    '<rect width="100%" height="100%" fill="#fff"/>',
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${xml(title)}</text>`,
  ];
  const panels = [
    { key: 'rps', label: 'requests/s', left: lefts[0] },
    { key: 'p99', label: 'p99 latency (ms)', left: lefts[1] },
  ];
  for (const { key, label, left } of panels) {
    const max = niceMax(Math.max(...all.map((p) => p[key])));
    const yOf = (v) => panel.top + panel.h - (v / max) * panel.h;
    out.push(
      `<text x="${left + panel.w / 2}" y="${panel.top - 12}" text-anchor="middle">${label}</text>`,
      `<line x1="${left}" y1="${panel.top + panel.h}" x2="${left + panel.w}" y2="${panel.top + panel.h}" stroke="#333"/>`,
      `<line x1="${left}" y1="${panel.top}" x2="${left}" y2="${panel.top + panel.h}" stroke="#333"/>`,
    );
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      out.push(
        `<line x1="${left}" y1="${yOf(v)}" x2="${left + panel.w}" y2="${yOf(v)}" stroke="#eee"/>`,
        `<text x="${left - 6}" y="${yOf(v) + 4}" text-anchor="end">${Math.round(v)}</text>`,
      );
    }
    for (const c of conns) {
      out.push(`<text x="${xOf(c, left)}" y="${panel.top + panel.h + 16}" text-anchor="middle">${c}</text>`);
    }
    out.push(
      `<text x="${left + panel.w / 2}" y="${panel.top + panel.h + 34}" text-anchor="middle">concurrent connections</text>`,
    );
    series.forEach((s, i) => {
      const pts = s.points.map((p) => `${xOf(p.connections, left).toFixed(1)},${yOf(p[key]).toFixed(1)}`);
      out.push(
        `<polyline fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="2" points="${pts.join(' ')}"/>`,
      );
      for (const pt of pts) {
        const [x, y] = pt.split(',');
        out.push(`<circle cx="${x}" cy="${y}" r="3" fill="${COLOURS[i % COLOURS.length]}"/>`);
      }
    });
  }
  series.forEach((s, i) => {
    const x = 70 + (i % 4) * 225;
    const y = H - 28 + Math.floor(i / 4) * 16;
    out.push(
      `<rect x="${x}" y="${y - 9}" width="12" height="12" fill="${COLOURS[i % COLOURS.length]}"/>`,
      `<text x="${x + 18}" y="${y + 1}">${xml(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

function xml(text) {
  return String(text).replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  );
}
