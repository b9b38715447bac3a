// A bar chart in plain SVG (two small charts do not need a chart library). The numbers are also
// in a table under "Show the numbers", for screen readers and for anyone who wants them exact.
export interface Bar {
  readonly label: string;
  readonly value: number;
}

const HEIGHT = 120;

export function BarChart({
  id,
  title,
  bars,
  unit,
  labelEvery = 1,
}: {
  id: string;
  title: string;
  bars: readonly Bar[];
  unit: string;
  /** Print every n-th label under the axis (24 hour labels do not fit on a phone). */
  labelEvery?: number;
}) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const slot = 24;
  const width = bars.length * slot;
  const total = bars.reduce((s, b) => s + b.value, 0);
  const peak = bars.reduce<Bar | null>((best, b) => (b.value > (best?.value ?? 0) ? b : best), null);
  const summary = peak
    ? `${title}: ${total} ${unit} in all, most at ${peak.label} (${peak.value}).`
    : `${title}: none.`;
  return (
    <figure className="chart" id={id}>
      <figcaption>{title}</figcaption>
      <svg
        viewBox={`0 0 ${width} ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={summary}
        className="chart-svg"
      >
        {bars.map((b, i) => {
          const h = (b.value / max) * HEIGHT;
          return (
            <g key={b.label} className="chart-bar" data-label={b.label} data-value={b.value}>
              <title>{`${b.label}: ${b.value} ${unit}`}</title>
              <rect x={i * slot + 3} y={HEIGHT - h} width={slot - 6} height={Math.max(h, b.value > 0 ? 1 : 0)} />
            </g>
          );
        })}
        <line x1={0} x2={width} y1={HEIGHT} y2={HEIGHT} className="chart-axis" />
      </svg>
      {/* Labels in HTML, not SVG text: the chart stretches to its box, and text must not. */}
      <div className="chart-labels" aria-hidden="true">
        {bars.map((b, i) => (
          <span key={b.label}>{i % labelEvery === 0 ? b.label : ''}</span>
        ))}
      </div>
      <details>
        <summary>Show the numbers</summary>
        <table className="chart-table">
          <tbody>
            {bars.map((b) => (
              <tr key={b.label}>
                <th scope="row">{b.label}</th>
                <td>{b.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
