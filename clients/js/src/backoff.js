// @ts-check
// Waits between attempts: exponential, capped, with full jitter (as the Go client's).

/**
 * The longest wait of attempt n (0 for the first): min(max, min·2ⁿ), in milliseconds.
 * @param {number} n @param {number} min @param {number} max
 */
export function backoffCeiling(n, min, max) {
  let c = min;
  for (let i = 0; i < n && c < max; i++) c *= 2;
  return Math.min(c, max);
}

/**
 * Attempt n's wait: uniformly random in [0, backoffCeiling(n)] whole milliseconds, so that
 * clients dropped at the same moment do not come back at the same moment.
 * @param {number} n @param {number} min @param {number} max
 * @param {() => number} [random] a source in [0, 1), Math.random by default
 */
export function backoffDelay(n, min, max, random = Math.random) {
  const c = backoffCeiling(n, min, max);
  if (c <= 0) return 0;
  return Math.min(c, Math.floor(random() * (c + 1)));
}
