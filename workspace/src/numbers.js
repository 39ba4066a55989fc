// Numbers, money and times as the marketer reads them: in the browser's language, times in the
// shop's time zone (with the zone named), money with the shop's currency.
const LOCALE = (typeof navigator !== "undefined" && navigator.language) || "en";

export function formatNumber(value) {
  const n = Number(value);
  return Number.isFinite(n) ? new Intl.NumberFormat(LOCALE).format(n) : String(value ?? "–");
}

export function formatMoney(amount, currency) {
  const n = Number(amount);
  if (!Number.isFinite(n) || !currency) return `${amount ?? "–"} ${currency || ""}`.trim();
  return new Intl.NumberFormat(LOCALE, { style: "currency", currency }).format(n);
}

export function formatTime(iso, timeZone) {
  if (!iso) return "–";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  return new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeStyle: "short", timeZone: timeZone || "UTC" }).format(when)
    + (timeZone ? "" : " UTC");
}

// "5 points per 100 UAH": an earn rate the way people say it.
export function earnRateText(pointsPerUnit, currency) {
  const rate = Number(pointsPerUnit);
  if (!Number.isFinite(rate) || rate <= 0) return "no points for spending";
  const per = [1, 10, 100, 1000].find((base) => Number.isInteger(Math.round(rate * base * 1000) / 1000) && rate * base >= 1) || 100;
  const points = Math.round(rate * per * 1000) / 1000;
  return `${formatNumber(points)} ${points === 1 ? "point" : "points"} per ${formatNumber(per)} ${currency || ""}`.trim();
}
