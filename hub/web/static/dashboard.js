// The Dashboard tab (owners and managers): a period's call and chat figures from GET /api/dashboard, with
// charts drawn by Chart.js (loaded the first time the tab opens). Live events that change a figure
// (a call ended or missed, a message, a thread created or moved) refresh it while the tab is on screen,
// at most once every REFRESH_MS, and never sooner than three times the last answer took after it came
// (a large company's month on the embedded server takes tens of seconds: the dashboard must not keep
// the database busy): events, never a polling timer.
import { api } from "./api.js";
import { $, h, replace } from "./dom.js";
import * as fmt from "./format.js";
import { addStrings, locale, t } from "./i18n.js";

addStrings({
  vi: {
    "nav.dashboard": "Tổng quan",
    "dash.title": "Tổng quan",
    "dash.period": "Khoảng thời gian",
    "dash.week": "Tuần này", "dash.month": "Tháng này", "dash.custom": "Tùy chọn",
    "dash.from": "Từ ngày", "dash.to": "Đến ngày", "dash.apply": "Xem",
    "dash.loading": "Đang tải số liệu…",
    "dash.updated": "Cập nhật lúc {time}",
    "dash.range": "{from} – {to}",
    "dash.calls": "Cuộc gọi", "dash.chat": "Hội thoại Zalo",
    "dash.extensions": "Tổng số máy nhánh", "dash.totalCalls": "Tổng cuộc gọi", "dash.answered": "Thành công",
    "dash.missed": "Gọi nhỡ", "dash.failed": "Thất bại", "dash.talk": "Tổng thời gian đàm thoại",
    "dash.shortAbandoned": "Bỏ máy sớm", "dash.other": "Đang diễn ra",
    "dash.missedFollowUp": "Cuộc gọi nhỡ: {open} chưa xử lý · {called_back} đã gọi lại · {handled} đã xử lý",
    "dash.newThreads": "Hội thoại mới", "dash.messagesIn": "Tin nhắn đến", "dash.messagesOut": "Tin nhắn đi",
    "dash.frMedian": "Phản hồi đầu (trung vị)", "dash.frP90": "Phản hồi đầu (p90)",
    "dash.resolutionMedian": "Thời gian xử lý (trung vị)", "dash.openNow": "Đang mở", "dash.queuedNow": "Đang chờ phân công",
    "dash.awaiting": "{n} hội thoại chưa được trả lời",
    "dash.perDay": "Cuộc gọi theo ngày", "dash.perHour": "Cuộc gọi theo giờ trong ngày",
    "dash.talkPerMember": "Thời gian đàm thoại theo nhân viên (phút)",
    "dash.perMember": "Theo nhân viên", "dash.perExtension": "Theo máy nhánh",
    "dash.member": "Nhân viên", "dash.extension": "Máy nhánh", "dash.holder": "Người giữ",
    "dash.firstResponses": "Lượt phản hồi đầu", "dash.resolved": "Đã xong",
    "dash.dataTable": "Bảng số liệu của biểu đồ",
    "dash.day": "Ngày", "dash.hour": "Giờ", "dash.minutes": "Phút",
    "dash.oaTools": "OA Zalo / chưa phân công",
    "dash.none": "Không có số liệu trong khoảng này.",
    "dash.chartDays": "Biểu đồ cột chồng: {total} cuộc gọi trong {days} ngày; nhiều nhất {max} cuộc vào {day}.",
    "dash.chartHours": "Biểu đồ cột: cuộc gọi theo giờ; cao điểm {hour} giờ với {max} cuộc.",
    "dash.chartTalk": "Biểu đồ cột ngang: thời gian đàm thoại của {n} nhân viên; nhiều nhất {name} với {minutes} phút.",
    "dash.chartEmpty": "Biểu đồ trống: không có cuộc gọi.",
    "dash.chartMissing": "Không tải được thư viện biểu đồ; số liệu vẫn có trong các bảng.",
  },
  en: {
    "nav.dashboard": "Dashboard",
    "dash.title": "Dashboard",
    "dash.period": "Period",
    "dash.week": "This week", "dash.month": "This month", "dash.custom": "Custom",
    "dash.from": "From", "dash.to": "To", "dash.apply": "Show",
    "dash.loading": "Loading figures…",
    "dash.updated": "Updated at {time}",
    "dash.range": "{from} – {to}",
    "dash.calls": "Calls", "dash.chat": "Zalo chat",
    "dash.extensions": "Extensions", "dash.totalCalls": "Calls", "dash.answered": "Answered",
    "dash.missed": "Missed", "dash.failed": "Failed", "dash.talk": "Total talk time",
    "dash.shortAbandoned": "Short abandoned", "dash.other": "In progress",
    "dash.missedFollowUp": "Missed calls: {open} open · {called_back} called back · {handled} handled",
    "dash.newThreads": "New threads", "dash.messagesIn": "Messages in", "dash.messagesOut": "Messages out",
    "dash.frMedian": "First response (median)", "dash.frP90": "First response (p90)",
    "dash.resolutionMedian": "Resolution time (median)", "dash.openNow": "Open now", "dash.queuedNow": "Queued now",
    "dash.awaiting": "{n} threads awaiting a reply",
    "dash.perDay": "Calls per day", "dash.perHour": "Calls by hour of day",
    "dash.talkPerMember": "Talk time per member (minutes)",
    "dash.perMember": "Per member", "dash.perExtension": "Per extension",
    "dash.member": "Member", "dash.extension": "Extension", "dash.holder": "Held by",
    "dash.firstResponses": "First responses", "dash.resolved": "Resolved",
    "dash.dataTable": "The chart's data as a table",
    "dash.day": "Day", "dash.hour": "Hour", "dash.minutes": "Minutes",
    "dash.oaTools": "Zalo OA / unassigned",
    "dash.none": "No figures in this period.",
    "dash.chartDays": "Stacked bar chart: {total} calls over {days} days; most on {day} with {max}.",
    "dash.chartHours": "Bar chart: calls by hour of day; busiest {hour}:00 with {max}.",
    "dash.chartTalk": "Horizontal bar chart: talk time of {n} members; most {name} with {minutes} minutes.",
    "dash.chartEmpty": "Empty chart: no calls.",
    "dash.chartMissing": "The chart library did not load; the figures are in the tables.",
  },
});

const CHART_SRC = "/vendor/chart.umd.min.js";
const REFRESH_MS = 5000;
const OUTCOMES = [
  ["answered", "dash.answered", "#12a150"],
  ["missed", "dash.missed", "#d93025"],
  ["short_abandoned", "dash.shortAbandoned", "#d98a00"],
  ["failed", "dash.failed", "#7b4fd6"],
  ["other", "dash.other", "#9aa5b1"],
];
// What changes a figure here; call.updated only once a call has ended.
const RELEVANT = new Set(["call.missed", "missed_call.updated", "message.created", "thread.created", "thread.updated",
  "thread.assigned"]);

let chartLibrary = null;

// Chart.js's UMD file, added as a script of the hub's own (the page's Content-Security-Policy allows no other).
export function loadChartLibrary() {
  chartLibrary ??= new Promise((resolve, reject) => {
    if (window.Chart) return resolve(window.Chart);
    const script = h("script", { src: CHART_SRC });
    script.addEventListener("load", () => (window.Chart ? resolve(window.Chart) : reject(new Error("Chart.js missing"))));
    script.addEventListener("error", () => {
      chartLibrary = null; // the next refresh tries again
      reject(new Error(`could not load ${CHART_SRC}`));
    });
    document.head.append(script);
  });
  return chartLibrary;
}

const minutes = (seconds) => Math.round((seconds || 0) / 6) / 10;
const number = (value) => new Intl.NumberFormat(locale()).format(value ?? 0);
const seconds = (value) => (value === null || value === undefined ? "–" : fmt.duration(value));

function nextDay(dateText) {
  const [y, m, d] = dateText.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

function shortDay(day) {
  const [, m, d] = day.split("-");
  return `${d}/${m}`;
}

// A period's bound as a calendar date in the company's time zone.
function date(iso, timeZone) {
  return new Intl.DateTimeFormat(locale(), { timeZone, day: "2-digit", month: "2-digit", year: "numeric" }).format(new Date(iso));
}

export class Dashboard {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
    this.figures = null;
    this.charts = {};
    this.stale = true; // figures older than the last relevant event
    this.loading = null;
    this.again = false; // another refresh is owed once the one in flight ends: "soon" or "now"
    this.timer = null;
    this.lastEnd = 0; // when the last answer came
    this.lastTook = 0; // how long it took, ms
    this.build();
    document.addEventListener("visibilitychange", () => {
      if (this.onScreen() && this.stale) this.schedule();
    });
  }

  build() {
    const periods = h("select", { id: "dash-period", "aria-label": "period" },
      ...["week", "month", "custom"].map((value) => h("option", { value, "data-i18n": `dash.${value}` }, t(`dash.${value}`))));
    const from = h("input", { type: "date", id: "dash-from", name: "from" });
    const to = h("input", { type: "date", id: "dash-to", name: "to" });
    const custom = h("span", { class: "dash-custom", hidden: true },
      h("label", {}, h("span", { "data-i18n": "dash.from" }, t("dash.from")), from),
      h("label", {}, h("span", { "data-i18n": "dash.to" }, t("dash.to")), to));
    const form = h("form", { id: "dash-filters", class: "filter-bar" },
      h("label", {}, h("span", { "data-i18n": "dash.period" }, t("dash.period")), periods), custom,
      h("button", { type: "submit", "data-i18n": "dash.apply" }, t("dash.apply")),
      h("span", { id: "dash-status", class: "muted", role: "status" }));
    periods.addEventListener("change", () => {
      custom.hidden = periods.value !== "custom";
      if (periods.value !== "custom") this.refresh(true);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.refresh(true);
    });
    const chart = (id, titleKey) => h("figure", { class: "dash-chart" },
      h("figcaption", { "data-i18n": titleKey }, t(titleKey)),
      h("div", { class: "dash-canvas" }, h("canvas", { id, role: "img" })),
      h("details", { class: "dash-data" }, h("summary", { "data-i18n": "dash.dataTable" }, t("dash.dataTable")),
        h("table", { class: "grid", id: `${id}-table` })));
    replace(this.root,
      h("h2", { "data-i18n": "dash.title" }, t("dash.title")),
      form,
      h("p", { id: "dash-error", class: "error", role: "alert", hidden: true }),
      h("h3", { "data-i18n": "dash.calls" }, t("dash.calls")),
      h("dl", { id: "dash-call-totals", class: "dash-cards" }),
      h("p", { id: "dash-missed-states", class: "muted" }),
      h("div", { class: "dash-charts" },
        chart("dash-chart-days", "dash.perDay"),
        chart("dash-chart-hours", "dash.perHour"),
        chart("dash-chart-talk", "dash.talkPerMember")),
      h("h3", { "data-i18n": "dash.chat" }, t("dash.chat")),
      h("dl", { id: "dash-chat-totals", class: "dash-cards" }),
      h("p", { id: "dash-awaiting", class: "muted" }),
      h("h3", { "data-i18n": "dash.perMember" }, t("dash.perMember")),
      h("table", { class: "grid", id: "dash-member-table" }),
      h("h3", { "data-i18n": "dash.perExtension" }, t("dash.perExtension")),
      h("table", { class: "grid", id: "dash-extension-table" }));
  }

  onScreen() {
    return !this.root.hidden && document.visibilityState === "visible";
  }

  /** The tab opened: figures read now if none yet or an event made them stale. */
  open() {
    if (this.stale || !this.figures) this.refresh();
  }

  /** A live event: relevant ones make the figures stale, refreshed soon if the tab is on screen. */
  apply(type, data) {
    if (!RELEVANT.has(type) && !(type === "call.updated" && data?.state === "ended")) return;
    this.stale = true;
    if (this.onScreen()) this.schedule();
  }

  /** One refresh at a time, however many events arrive: REFRESH_MS (or three times the last answer's time)
   * after the last answer came. */
  schedule() {
    if (this.timer || this.loading) {
      if (this.loading) this.again ||= "soon";
      return;
    }
    const wait = Math.max(300, this.lastEnd + Math.max(REFRESH_MS, 3 * this.lastTook) - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.onScreen()) this.refresh();
    }, wait);
  }

  query() {
    const period = $("#dash-period", this.root).value;
    if (period !== "custom") return { period };
    const from = $("#dash-from", this.root).value;
    const to = $("#dash-to", this.root).value;
    return {
      from: fmt.zoneMidnight(from || to),
      to: to || from ? fmt.zoneMidnight(nextDay(to || from)) : null, // the "to" day included
    };
  }

  /** Reads the figures now (`asked`: the person chose a period, so it goes right after one in flight). */
  async refresh(asked = false) {
    if (this.loading) {
      this.again = asked ? "now" : this.again || "soon"; // once the one in flight ends
      return this.loading;
    }
    this.stale = false;
    const started = Date.now();
    const status = $("#dash-status", this.root);
    status.textContent = t("dash.loading");
    this.loading = (async () => {
      try {
        const query = this.query();
        if (query.period === undefined && !query.from) return;
        this.figures = await api.get("/api/dashboard", query);
        this.updatedAt = new Date().toISOString();
        $("#dash-error", this.root).hidden = true;
        await this.render();
      } catch (err) {
        const shown = $("#dash-error", this.root);
        shown.textContent = this.ctx.errorText(err);
        shown.hidden = false;
      } finally {
        this.loading = null;
        this.lastEnd = Date.now();
        this.lastTook = this.lastEnd - started;
        status.textContent = this.figures ? this.statusText() : "";
        const again = this.again;
        this.again = false;
        if (again === "now") this.refresh();
        else if (again) this.schedule();
      }
    })();
    return this.loading;
  }

  statusText() {
    const f = this.figures;
    const last = new Date(Date.parse(f.end) - 1).toISOString();
    const range = t("dash.range", { from: date(f.start, f.timezone), to: date(last, f.timezone) });
    return `${range} · ${t("dash.updated", { time: fmt.clock(this.updatedAt) })}`;
  }

  memberName(id) {
    if (!id) return null;
    return this.ctx.members.get(id)?.name || id;
  }

  async render() {
    const f = this.figures;
    if (!f) return;
    const calls = f.calls;
    const chat = f.chat;
    const card = (id, label, value) => h("div", { class: "dash-card", dataset: { figure: id } },
      h("dt", {}, t(label)), h("dd", { id: `dash-${id}` }, value));
    replace($("#dash-call-totals", this.root),
      card("extensions", "dash.extensions", number(calls.totals.extensions)),
      card("calls", "dash.totalCalls", number(calls.totals.calls)),
      card("answered", "dash.answered", number(calls.totals.answered)),
      card("missed", "dash.missed", number(calls.totals.missed)),
      card("failed", "dash.failed", number(calls.totals.failed)),
      card("talk", "dash.talk", fmt.duration(calls.totals.talk_s)));
    $("#dash-missed-states", this.root).textContent = t("dash.missedFollowUp", calls.missed_calls);
    replace($("#dash-chat-totals", this.root),
      card("new-threads", "dash.newThreads", number(chat.new_threads)),
      card("messages-in", "dash.messagesIn", number(chat.messages_in)),
      card("messages-out", "dash.messagesOut", number(chat.messages_out)),
      card("fr-median", "dash.frMedian", seconds(chat.first_response_median_s)),
      card("fr-p90", "dash.frP90", seconds(chat.first_response_p90_s)),
      card("resolution", "dash.resolutionMedian", seconds(chat.resolution_median_s)),
      card("open-now", "dash.openNow", number(chat.open_now)),
      card("queued-now", "dash.queuedNow", number(chat.queued_now)));
    $("#dash-awaiting", this.root).textContent = chat.awaiting_reply ? t("dash.awaiting", { n: chat.awaiting_reply }) : "";
    this.renderMembers();
    this.renderExtensions();
    if (!this.loading) $("#dash-status", this.root).textContent = this.statusText(); // a language switch
    await this.renderCharts();
  }

  renderMembers() {
    const f = this.figures;
    const rows = new Map();
    const row = (id) => {
      const key = id ?? "";
      if (!rows.has(key)) rows.set(key, { id, calls: null, chat: null });
      return rows.get(key);
    };
    for (const r of f.calls.per_member) row(r.member_id).calls = r;
    for (const r of f.chat.per_agent) row(r.member_id).chat = r;
    const name = (id) => this.memberName(id) ?? t("dash.oaTools");
    const ordered = [...rows.values()].sort((a, b) => (a.id === null) - (b.id === null) || name(a.id).localeCompare(name(b.id)));
    const cell = (value, cls = "num") => h("td", { class: cls }, value);
    replace($("#dash-member-table", this.root),
      h("thead", {}, h("tr", {}, ...["dash.member", "dash.extension", "dash.totalCalls", "dash.answered", "dash.missed",
        "dash.failed", "dash.talk", "dash.firstResponses", "dash.frMedian", "dash.frP90", "dash.resolved",
        "dash.resolutionMedian"].map((key) => h("th", {}, t(key))))),
      h("tbody", {}, ordered.length ? ordered.map(({ id, calls, chat }) => h("tr", { dataset: { member: id ?? "" } },
        h("td", { class: "name" }, name(id)),
        cell(id ? this.ctx.members.get(id)?.extension ?? "" : "", "ext"),
        cell(number(calls?.calls)), cell(number(calls?.answered)), cell(number(calls?.missed)), cell(number(calls?.failed)),
        cell(fmt.duration(calls?.talk_s ?? 0)),
        cell(number(chat?.first_responses)), cell(seconds(chat?.first_response_median_s)),
        cell(seconds(chat?.first_response_p90_s)), cell(number(chat?.resolved)), cell(seconds(chat?.resolution_median_s))))
        : h("tr", {}, h("td", { colspan: 12, class: "muted" }, t("dash.none")))));
  }

  renderExtensions() {
    const holders = new Map([...this.ctx.members.values()].filter((m) => m.extension).map((m) => [m.extension, m.name]));
    const rows = this.figures.calls.per_extension;
    const cell = (value) => h("td", { class: "num" }, value);
    replace($("#dash-extension-table", this.root),
      h("thead", {}, h("tr", {}, ...["dash.extension", "dash.holder", "dash.totalCalls", "dash.answered", "dash.missed",
        "dash.failed", "dash.talk"].map((key) => h("th", {}, t(key))))),
      h("tbody", {}, rows.length ? rows.map((r) => h("tr", { dataset: { extension: r.extension } },
        h("td", { class: "ext" }, r.extension), h("td", {}, holders.get(r.extension) ?? ""),
        cell(number(r.calls)), cell(number(r.answered)), cell(number(r.missed)), cell(number(r.failed)),
        cell(fmt.duration(r.talk_s))))
        : h("tr", {}, h("td", { colspan: 7, class: "muted" }, t("dash.none")))));
  }

  /** The three charts' data, each also as a table (the canvas's accessible fallback) and a summary label. */
  chartData() {
    const f = this.figures;
    const days = f.calls.per_day;
    const dayTotal = (d) => OUTCOMES.reduce((sum, [key]) => sum + d[key], 0);
    const busiestDay = days.reduce((best, d) => (dayTotal(d) > dayTotal(best) ? d : best), days[0]);
    const busiestHour = f.calls.per_hour.reduce((best, d) => (d.calls > best.calls ? d : best), f.calls.per_hour[0]);
    const talk = f.calls.per_member.filter((r) => r.talk_s > 0).sort((a, b) => b.talk_s - a.talk_s)
      .map((r) => ({ name: this.memberName(r.member_id), minutes: minutes(r.talk_s) }));
    const empty = !f.calls.totals.calls;
    return {
      days: {
        labels: days.map((d) => shortDay(d.day)),
        datasets: OUTCOMES.map(([key, label, color]) => ({ label: t(label), data: days.map((d) => d[key]), backgroundColor: color })),
        table: [[t("dash.day"), ...OUTCOMES.map(([, label]) => t(label))], ...days.map((d) => [d.day, ...OUTCOMES.map(([key]) => d[key])])],
        summary: empty ? t("dash.chartEmpty") : t("dash.chartDays", {
          total: f.calls.totals.calls, days: days.length, max: dayTotal(busiestDay), day: shortDay(busiestDay.day),
        }),
      },
      hours: {
        labels: f.calls.per_hour.map((d) => String(d.hour).padStart(2, "0")),
        datasets: [{ label: t("dash.totalCalls"), data: f.calls.per_hour.map((d) => d.calls), backgroundColor: "#0068ff" }],
        table: [[t("dash.hour"), t("dash.totalCalls")], ...f.calls.per_hour.map((d) => [d.hour, d.calls])],
        summary: empty ? t("dash.chartEmpty") : t("dash.chartHours", { hour: busiestHour.hour, max: busiestHour.calls }),
      },
      talk: {
        labels: talk.map((r) => r.name),
        datasets: [{ label: t("dash.minutes"), data: talk.map((r) => r.minutes), backgroundColor: "#12a150" }],
        table: [[t("dash.member"), t("dash.minutes")], ...talk.map((r) => [r.name, r.minutes])],
        summary: talk.length ? t("dash.chartTalk", { n: talk.length, name: talk[0].name, minutes: talk[0].minutes })
          : t("dash.chartEmpty"),
      },
    };
  }

  async renderCharts() {
    const data = this.chartData();
    const ids = { days: "dash-chart-days", hours: "dash-chart-hours", talk: "dash-chart-talk" };
    for (const [key, id] of Object.entries(ids)) {
      const canvas = $(`#${id}`, this.root);
      canvas.setAttribute("aria-label", data[key].summary);
      canvas.textContent = data[key].summary; // what a browser without canvas shows
      const [head, ...body] = data[key].table;
      replace($(`#${id}-table`, this.root),
        h("thead", {}, h("tr", {}, head.map((cell) => h("th", {}, cell)))),
        h("tbody", {}, body.map((row) => h("tr", {}, row.map((cell) => h("td", {}, cell))))));
    }
    let Chart;
    try {
      Chart = await loadChartLibrary();
    } catch {
      const shown = $("#dash-error", this.root);
      shown.textContent = t("dash.chartMissing");
      shown.hidden = false;
      return;
    }
    const options = (stacked, horizontal = false) => ({
      animation: false, // figures that move when nothing changed help nobody; and it honours reduced motion
      maintainAspectRatio: false,
      indexAxis: horizontal ? "y" : "x",
      plugins: { legend: { display: stacked, position: "bottom" } },
      scales: {
        x: { stacked, beginAtZero: true, ticks: { precision: 0 } },
        y: { stacked, beginAtZero: true, ticks: { precision: 0 } },
      },
    });
    const config = { days: options(true), hours: options(false), talk: options(false, true) };
    for (const [key, id] of Object.entries(ids)) {
      const chartData = { labels: data[key].labels, datasets: data[key].datasets };
      if (this.charts[key]) {
        this.charts[key].data = chartData;
        this.charts[key].update();
      } else {
        this.charts[key] = new Chart($(`#${id}`, this.root), { type: "bar", data: chartData, options: config[key] });
      }
    }
  }
}
