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
  try {
    return new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeStyle: "short", timeZone: timeZone || "UTC" }).format(when)
      + (timeZone ? "" : " UTC");
  } catch {  // a zone this browser does not know: the moment in UTC, said so
    return new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }).format(when) + " UTC";
  }
}

// "5 points per 100 UAH": an earn rate the way people say it.
export function earnRateText(pointsPerUnit, currency) {
  const rate = Number(pointsPerUnit);
  if (!Number.isFinite(rate) || rate <= 0) return "no points for spending";
  const per = [1, 10, 100, 1000].find((base) => Number.isInteger(Math.round(rate * base * 1000) / 1000) && rate * base >= 1) || 100;
  const points = Math.round(rate * per * 1000) / 1000;
  return `${formatNumber(points)} ${points === 1 ? "point" : "points"} per ${formatNumber(per)} ${currency || ""}`.trim();
}

export function formatPercent(fraction, digits = 1) {
  const n = Number(fraction);
  if (fraction === null || fraction === undefined || !Number.isFinite(n)) return "–";
  return new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: digits }).format(n);
}

// A change as a signed percent ("+12.5 %", "−3 %"): relative lifts.
export function formatChange(fraction) {
  const n = Number(fraction);
  if (fraction === null || fraction === undefined || !Number.isFinite(n)) return "–";
  return new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: 1, signDisplay: "exceptZero" }).format(n);
}

// "2031-03" → "Mar 2031" / "März 2031" / "бер. 2031 р.": a calendar month (UTC, as the server counts them).
export function formatMonth(yearMonth) {
  if (!/^\d{4}-\d{2}$/.test(String(yearMonth || ""))) return String(yearMonth ?? "–");
  return new Intl.DateTimeFormat(LOCALE, { year: "numeric", month: "short", timeZone: "UTC" })
    .format(new Date(`${yearMonth}-01T00:00:00Z`));
}

// A calendar day ("2031-03-14") as the marketer writes dates, without shifting it by a time zone.
export function formatDay(day) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(String(day || ""))) return String(day ?? "–");
  return new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(`${day}T00:00:00Z`));
}
