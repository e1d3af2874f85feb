/** A small line chart of recent values; gaps (null) break the line. */
export function Sparkline(props: {
  label: string;
  values: Array<number | null>;
  unit: string;
  digits?: number;
}) {
  const width = 160;
  const height = 36;
  const numbers = props.values.filter((value): value is number => value !== null);
  const max = Math.max(...numbers, 0) || 1;
  const step = props.values.length > 1 ? width / (props.values.length - 1) : width;
  const segments: string[] = [];
  let current: string[] = [];
  props.values.forEach((value, index) => {
    if (value === null) {
      if (current.length) segments.push(current.join(' '));
      current = [];
      return;
    }
    current.push(
      `${(index * step).toFixed(1)},${(height - 2 - (value / max) * (height - 4)).toFixed(1)}`,
    );
  });
  if (current.length) segments.push(current.join(' '));
  const latest = numbers.at(-1);
  const text =
    latest === undefined ? 'no data yet' : `${latest.toFixed(props.digits ?? 0)} ${props.unit}`;
  return (
    <figure class="sparkline">
      <figcaption>
        {props.label}: <strong>{text}</strong>
      </figcaption>
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`${props.label}, last ${props.values.length} samples, latest ${text}`}
      >
        {segments.map((points) =>
          points.includes(' ') ? (
            <polyline
              key={points}
              points={points}
              fill="none"
              stroke="currentColor"
              stroke-width="1.5"
            />
          ) : (
            // A lone sample between gaps: a dot, or it would not show.
            <circle
              key={points}
              cx={points.split(',')[0]}
              cy={points.split(',')[1]}
              r="2"
              fill="currentColor"
            />
          ),
        )}
      </svg>
    </figure>
  );
}
