// Times in the company's time zone, durations, and the hub's clock as seen from this browser.
import { locale } from "./i18n.js";

let timeZone = "Asia/Ho_Chi_Minh";
let skewMs = 0; // hub clock minus browser clock: running timers count on the hub's time, not the PC's

export function setTimeZone(zone) {
  if (zone) timeZone = zone;
}

// Called with the hub's own "now" (an event's `at`, a snapshot's `at`).
export function observeHubTime(iso) {
  const at = Date.parse(iso);
  if (!Number.isNaN(at)) skewMs = at - Date.now();
}

export function hubNow() {
  return Date.now() + skewMs;
}

function parts(iso, options) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale(), { timeZone, ...options }).format(new Date(iso));
}

export function clock(iso) {
  return parts(iso, { hour: "2-digit", minute: "2-digit" });
}

export function clockSeconds(ms) {
  return new Intl.DateTimeFormat(locale(), { timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit" })
    .format(new Date(ms));
}

export function dateTime(iso) {
  return parts(iso, { day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit" });
}

// Today only the time; otherwise the date too.
export function when(iso) {
  if (!iso) return "";
  const day = (value) => parts(value, { year: "numeric", month: "2-digit", day: "2-digit" });
  return day(iso) === day(new Date(hubNow()).toISOString()) ? clock(iso) : dateTime(iso);
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function secondsSince(iso) {
  return iso ? (hubNow() - Date.parse(iso)) / 1000 : null;
}

export function percent(ratio) {
  return ratio === null || ratio === undefined ? "–" : `${Math.round(ratio * 100)}%`;
}

// A calendar date (yyyy-mm-dd, from a date input) at midnight in the company's zone, as ISO.
export function zoneMidnight(dateText) {
  if (!dateText) return null;
  const guess = new Date(`${dateText}T00:00:00Z`);
  const shown = new Intl.DateTimeFormat("en-CA", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(guess);
  const get = (type) => Number(shown.find((p) => p.type === type).value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"));
  return new Date(guess.getTime() - (asUtc - guess.getTime())).toISOString();
}
