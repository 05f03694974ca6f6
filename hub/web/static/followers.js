// The Followers tab (owners and managers: rulebook Action.followers): the Zalo users who interacted with the
// company's OAs, with the product guide's fields and filters, the follower counts, a detail panel, and
// "Sync from Zalo" with its job's live progress. Live by events only: follower.updated moves a row (and the
// counts, read again at most once every COUNTS_MS), job.updated moves the progress bar.
import { api } from "./api.js";
import { $, h, option, replace } from "./dom.js";
import * as fmt from "./format.js";
import { addStrings, locale, t } from "./i18n.js";

addStrings({
  vi: {
    "nav.followers": "Người quan tâm",
    "fol.title": "Người quan tâm OA",
    "fol.counts": "{followers} người quan tâm · {known} người đã tương tác · {interacted} tương tác trong 30 ngày · {phones} có số điện thoại",
    "fol.oaCount": "{name}: Zalo báo {total} người dùng, {num} người quan tâm · đồng bộ lần cuối {when}",
    "fol.never": "chưa đồng bộ",
    "fol.sync": "Đồng bộ từ Zalo",
    "fol.syncFull": "Đồng bộ toàn bộ",
    "fol.job.queued": "Đang chờ đồng bộ…",
    "fol.job.running": "Đang đồng bộ: {done}/{total}",
    "fol.job.completed": "Đã đồng bộ {done} người dùng lúc {when}",
    "fol.job.failed": "Đồng bộ thất bại: {error}",
    "fol.job.cancelled": "Đã hủy đồng bộ",
    "fol.notice.-32": "Zalo báo vượt giới hạn gọi API; đang chờ và thử lại ({detail})",
    "fol.notice.0": "Không kết nối được Zalo; đang thử lại ({detail})",
    "fol.notice.other": "Zalo báo lỗi {code}; đang thử lại ({detail})",
    "fol.oa": "OA", "fol.anyOa": "Mọi OA",
    "fol.anyState": "Quan tâm hoặc không", "fol.interested": "Quan tâm", "fol.notInterested": "Không quan tâm",
    "fol.unknown": "Chưa rõ",
    "fol.tag": "Nhãn", "fol.anyTime": "Mọi lúc", "fol.days7": "7 ngày qua",
    "fol.days30": "30 ngày qua — gọi được qua ZCC", "fol.days90": "90 ngày qua",
    "fol.phoneKnown": "Có số điện thoại", "fol.search": "Tên, số điện thoại hoặc user id", "fol.filter": "Lọc",
    "fol.avatar": "Ảnh", "fol.name": "Tên Zalo", "fol.userId": "User ID", "fol.last": "Tương tác cuối",
    "fol.phone": "Số điện thoại", "fol.location": "Vị trí", "fol.status": "Trạng thái",
    "fol.none": "Không có người dùng nào khớp bộ lọc.", "fol.older": "Xem thêm",
    "fol.detail": "Chi tiết", "fol.address": "Địa chỉ", "fol.tags": "Nhãn", "fol.notes": "Ghi chú",
    "fol.sharedName": "Tên đã chia sẻ", "fol.callable": "Gọi được qua ZCC (tương tác trong 30 ngày)",
    "fol.notCallable": "Không gọi được qua ZCC bằng user id (quá 30 ngày không tương tác)",
    "fol.pick": "Chọn một người dùng để xem chi tiết.",
  },
  en: {
    "nav.followers": "Followers",
    "fol.title": "OA followers",
    "fol.counts": "{followers} followers · {known} users who interacted · {interacted} interacted in 30 days · {phones} with a phone number",
    "fol.oaCount": "{name}: Zalo counts {total} users, {num} followers · last synced {when}",
    "fol.never": "never synced",
    "fol.sync": "Sync from Zalo",
    "fol.syncFull": "Full sync",
    "fol.job.queued": "Waiting to sync…",
    "fol.job.running": "Syncing: {done}/{total}",
    "fol.job.completed": "Synced {done} users at {when}",
    "fol.job.failed": "Sync failed: {error}",
    "fol.job.cancelled": "Sync cancelled",
    "fol.notice.-32": "Zalo's rate limit was reached; waiting and retrying ({detail})",
    "fol.notice.0": "Zalo could not be reached; retrying ({detail})",
    "fol.notice.other": "Zalo answered error {code}; retrying ({detail})",
    "fol.oa": "OA", "fol.anyOa": "Every OA",
    "fol.anyState": "Following or not", "fol.interested": "Interested", "fol.notInterested": "Not interested",
    "fol.unknown": "Unknown",
    "fol.tag": "Tag", "fol.anyTime": "Any time", "fol.days7": "Last 7 days",
    "fol.days30": "Last 30 days — ZCC callable", "fol.days90": "Last 90 days",
    "fol.phoneKnown": "Phone known", "fol.search": "Name, phone or user id", "fol.filter": "Filter",
    "fol.avatar": "Avatar", "fol.name": "Zalo name", "fol.userId": "User ID", "fol.last": "Last interaction",
    "fol.phone": "Phone", "fol.location": "Location", "fol.status": "Status",
    "fol.none": "No user matches the filters.", "fol.older": "More",
    "fol.detail": "Detail", "fol.address": "Address", "fol.tags": "Tags", "fol.notes": "Notes",
    "fol.sharedName": "Shared name", "fol.callable": "Callable through ZCC (interacted within 30 days)",
    "fol.notCallable": "Not callable through ZCC by user id (no interaction for 30 days)",
    "fol.pick": "Pick a user to see the detail.",
  },
});

const KIND = "followers.sync";
const PAGE = 50;
const COUNTS_MS = 2000;
const DAY_MS = 86_400_000;

const location_ = (f) => [f.shared?.district, f.shared?.city].filter(Boolean).join(", ");
const callable = (f) => f.last_interaction_at && Date.now() - Date.parse(f.last_interaction_at) < 30 * DAY_MS;

// The user's avatar, or their initial when Zalo gave none.
function avatar(f, cls) {
  if (f.avatar) return h("img", { class: cls, alt: "", src: f.avatar });
  const name = f.display_name || f.shared?.name || "?";
  return h("span", { class: `${cls} letter`, "aria-hidden": "true" }, name.trim().charAt(0).toUpperCase());
}

// A last interaction Zalo gave as a day only (midnight in Vietnam, from user_last_interaction_date): the date.
function lastSeen(iso) {
  if (!iso) return null;
  const vietnam = new Date(Date.parse(iso) + 7 * 3_600_000);
  if (vietnam.getUTCHours() || vietnam.getUTCMinutes() || vietnam.getUTCSeconds() || vietnam.getUTCMilliseconds()) {
    return fmt.dateTime(iso);
  }
  return new Intl.DateTimeFormat(locale(), { timeZone: "UTC", day: "2-digit", month: "2-digit", year: "numeric" }).format(vietnam);
}

// The hub's order: newest interaction first, never-interacted last, the id breaking ties (descending).
function newestFirst(a, b) {
  return (b.last_interaction_at ?? "").localeCompare(a.last_interaction_at ?? "") || b.id.localeCompare(a.id);
}

function status(f) {
  if (f.is_follower === true) return h("span", { class: "badge follower yes" }, t("fol.interested"));
  if (f.is_follower === false) return h("span", { class: "badge follower no" }, t("fol.notInterested"));
  return h("span", { class: "badge follower" }, t("fol.unknown"));
}

export class Followers {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
    this.rows = new Map(); // follower id -> follower, in the list's order
    this.next = null;
    this.selected = null;
    this.stats = null;
    this.jobs = new Map(); // OA link id -> its latest followers.sync job
    this.loaded = false;
    this.countsTimer = null;
    this.build();
  }

  build() {
    const days = h("select", { id: "fol-days", "aria-label": "interacted" },
      option("", t("fol.anyTime")), option("7", t("fol.days7")), option("30", t("fol.days30")), option("90", t("fol.days90")));
    const filters = h("form", { id: "fol-filters", class: "filter-bar" },
      h("select", { id: "fol-oa", "aria-label": "OA" }),
      h("select", { id: "fol-follower", "aria-label": "follower" },
        option("", t("fol.anyState")), option("true", t("fol.interested")), option("false", t("fol.notInterested"))),
      h("input", { id: "fol-tag", placeholder: t("fol.tag"), size: 10 }),
      days,
      h("label", { class: "check" }, h("input", { id: "fol-phone", type: "checkbox" }), " ", t("fol.phoneKnown")),
      h("input", { id: "fol-q", type: "search", placeholder: t("fol.search"), size: 22 }),
      h("button", { type: "submit" }, t("fol.filter")));
    filters.addEventListener("submit", (event) => {
      event.preventDefault();
      this.reload();
    });
    for (const id of ["#fol-oa", "#fol-follower", "#fol-days", "#fol-phone"]) {
      $(id, filters).addEventListener("change", () => this.reload());
    }
    const sync = h("div", { class: "filter-bar fol-sync" },
      h("select", { id: "fol-sync-oa", "aria-label": "OA" }),
      h("button", { type: "button", id: "fol-sync", class: "primary", onclick: () => this.startSync(false) }, t("fol.sync")),
      h("button", { type: "button", id: "fol-sync-full", class: "link", onclick: () => this.startSync(true) }, t("fol.syncFull")),
      h("progress", { id: "fol-progress", max: 1, value: 0, hidden: true }),
      h("span", { id: "fol-job", role: "status" }),
      h("span", { id: "fol-notice", class: "muted" }));
    $("#fol-sync-oa", sync).addEventListener("change", () => this.renderJob());
    const table = h("table", { class: "grid", id: "fol-list" },
      h("thead", {}, h("tr", {}, ...["fol.avatar", "fol.name", "fol.oa", "fol.userId", "fol.last", "fol.phone",
        "fol.location", "fol.status"].map((key) => h("th", {}, t(key))))),
      h("tbody"));
    replace(this.root,
      h("h2", {}, t("fol.title")),
      h("p", { id: "fol-counts", class: "muted" }),
      h("ul", { id: "fol-oa-counts", class: "muted fol-oa-counts" }),
      sync,
      h("p", { id: "fol-error", class: "error", role: "alert", hidden: true }),
      filters,
      h("div", { class: "fol-body" },
        h("div", { class: "fol-table" }, table,
          h("button", { type: "button", id: "fol-older", hidden: true, onclick: () => this.load(true) }, t("fol.older"))),
        h("aside", { id: "fol-detail", class: "fol-detail" }, t("fol.pick"))));
  }

  /** A language switch: built again in the new language, with what it held. */
  render() {
    const held = this.filters();
    const selected = this.selected;
    this.build();
    this.renderOas();
    $("#fol-oa", this.root).value = held.oa_id ?? "";
    $("#fol-follower", this.root).value = held.follower ?? "";
    $("#fol-tag", this.root).value = held.tag ?? "";
    $("#fol-days", this.root).value = held.interacted_days ?? "";
    $("#fol-phone", this.root).checked = Boolean(held.phone_known);
    $("#fol-q", this.root).value = held.q ?? "";
    this.renderList();
    this.renderCounts();
    this.renderJob();
    if (selected) this.select(selected);
  }

  open() {
    if (!this.loaded) {
      this.loaded = true;
      this.renderOas();
      Promise.all([this.reload(), this.loadJobs()]).catch((err) => this.showError(err));
    }
  }

  showError(err) {
    const shown = $("#fol-error", this.root);
    shown.textContent = err ? this.ctx.errorText(err) : "";
    shown.hidden = !err;
  }

  oaName(oaId) {
    return this.ctx.oaLinks.find((link) => link.oa_id === oaId)?.name ?? oaId;
  }

  renderOas() {
    const links = this.ctx.oaLinks;
    const pick = $("#fol-oa", this.root);
    const current = pick.value;
    replace(pick, option("", t("fol.anyOa")), ...links.map((link) => option(link.oa_id, link.name)));
    pick.value = current;
    const syncPick = $("#fol-sync-oa", this.root);
    const syncCurrent = syncPick.value;
    replace(syncPick, ...links.filter((link) => link.status === "active").map((link) => option(link.id, link.name)));
    if (syncCurrent) syncPick.value = syncCurrent;
  }

  filters() {
    const value = (id) => $(id, this.root)?.value || null;
    return {
      oa_id: value("#fol-oa"),
      follower: value("#fol-follower"),
      tag: value("#fol-tag"),
      interacted_days: value("#fol-days"),
      phone_known: $("#fol-phone", this.root)?.checked ? "true" : null,
      q: value("#fol-q"),
    };
  }

  /** Whether a follower an event brought belongs in the list under the filters (as the hub would answer). */
  matches(f) {
    const q = this.filters();
    if (q.oa_id && f.oa_id !== q.oa_id) return false;
    if (q.follower && String(f.is_follower) !== q.follower) return false;
    if (q.tag && !f.tags.includes(q.tag)) return false;
    if (q.interacted_days && !(f.last_interaction_at && Date.now() - Date.parse(f.last_interaction_at) <= q.interacted_days * DAY_MS)) return false;
    if (q.phone_known && !f.shared?.phone_e164) return false;
    if (q.q) {
      const text = q.q.toLowerCase();
      const digits = q.q.replace(/\D/g, "").replace(/^0|^84/, "");
      const hit = (f.display_name || "").toLowerCase().includes(text) || (f.shared?.name || "").toLowerCase().includes(text)
        || f.user_id === q.q || (digits.length >= 8 && (f.shared?.phone_e164 || "").endsWith(digits));
      if (!hit) return false;
    }
    return true;
  }

  async reload() {
    this.rows = new Map();
    this.next = null;
    this.generation = (this.generation ?? 0) + 1; // an answer to filters changed since is dropped
    await Promise.all([this.load(false), this.loadCounts()]);
  }

  async load(more) {
    const generation = this.generation;
    try {
      const page = await api.get("/api/followers", { ...this.filters(), limit: PAGE, before: more ? this.next : null });
      if (generation !== this.generation) return;
      for (const f of page.followers) this.rows.set(f.id, f);
      this.next = page.next_before;
      this.showError(null);
    } catch (err) {
      this.showError(err);
    }
    this.renderList();
  }

  async loadCounts() {
    const oa = this.filters().oa_id;
    this.stats = await api.get("/api/followers/stats", { oa_id: oa });
    this.renderCounts();
  }

  countsSoon() {
    if (this.countsTimer) return;
    this.countsTimer = setTimeout(() => {
      this.countsTimer = null;
      this.loadCounts().catch((err) => this.showError(err));
    }, COUNTS_MS);
  }

  async loadJobs() {
    const { jobs } = await api.get("/api/jobs", { kind: KIND, limit: 20 });
    for (const job of [...jobs].reverse()) this.jobs.set(job.params.link_id, job); // newest last: newest kept
    this.renderJob();
  }

  renderCounts() {
    const s = this.stats;
    if (!s) return;
    $("#fol-counts", this.root).textContent = t("fol.counts", {
      followers: s.followers, known: s.known, interacted: s.interacted_30d, phones: s.phone_known,
    });
    replace($("#fol-oa-counts", this.root), ...s.oas.map((oa) => h("li", { dataset: { oaLinkId: oa.oa_link_id } },
      t("fol.oaCount", {
        name: oa.name, total: oa.zalo_total ?? "–", num: oa.zalo_num_follower ?? "–",
        when: oa.last_sync_at ? fmt.dateTime(oa.last_sync_at) : t("fol.never"),
      }))));
  }

  ordered() {
    return [...this.rows.values()].sort(newestFirst);
  }

  renderList() {
    const ordered = this.ordered();
    const body = $("#fol-list tbody", this.root);
    replace(body, ordered.length ? ordered.map((f) => h("tr", {
      class: f.id === this.selected ? "selected" : null,
      dataset: { followerId: f.id },
      onclick: () => this.select(f.id),
    },
      h("td", {}, avatar(f, "avatar small")),
      h("td", { class: "name" }, f.display_name || f.shared?.name || f.user_id),
      h("td", {}, this.oaName(f.oa_id)),
      h("td", { class: "user-id" }, f.user_id),
      h("td", { class: "last" }, lastSeen(f.last_interaction_at) ?? "–"),
      h("td", { class: "phone" }, f.shared?.phone ?? ""),
      h("td", { class: "location" }, location_(f)),
      h("td", {}, status(f))))
      : h("tr", {}, h("td", { colspan: 8, class: "muted" }, t("fol.none"))));
    $("#fol-older", this.root).hidden = !this.next;
  }

  async select(id) {
    this.selected = id;
    this.renderList();
    let f = this.rows.get(id);
    if (!f) {
      try {
        f = await api.get(`/api/followers/${id}`);
      } catch (err) {
        this.showError(err);
        return;
      }
    }
    this.renderDetail(f);
  }

  renderDetail(f) {
    const row = (key, value) => h("div", { class: "fol-field" }, h("dt", {}, t(key)), h("dd", {}, value || "–"));
    const address = [f.shared?.address, f.shared?.district, f.shared?.city].filter(Boolean).join(", ");
    replace($("#fol-detail", this.root),
      h("div", { class: "customer" },
        avatar(f, "avatar"),
        h("h3", { id: "fol-detail-name" }, f.display_name || f.shared?.name || f.user_id)),
      h("dl", { dataset: { followerId: f.id } },
        row("fol.status", status(f)),
        row("fol.last", lastSeen(f.last_interaction_at)),
        row("fol.userId", h("span", {}, f.user_id, " ",
          h("span", { class: `badge zcc ${callable(f) ? "yes" : "no"}` }, t(callable(f) ? "fol.callable" : "fol.notCallable")))),
        row("fol.oa", this.oaName(f.oa_id)),
        row("fol.sharedName", f.shared?.name),
        row("fol.phone", f.shared?.phone),
        row("fol.address", h("span", { id: "fol-detail-address" }, address)),
        row("fol.tags", f.tags.length ? f.tags.map((tag) => h("span", { class: "badge tag" }, tag)) : null),
        row("fol.notes", f.notes.join(" · "))));
  }

  /** Every stored event (console.js): what this screen follows. */
  apply(type, data) {
    if (type === "follower.updated") this.updated(data);
    else if (type === "job.updated") this.jobUpdated(data);
    else if (type === "oa_link.created" || type === "oa_link.updated") this.renderOas();
  }

  /** follower.updated: the row moves (in, out, or changed) and the counts are read again soon. */
  updated(f) {
    if (!this.loaded) return;
    if (!this.matches(f)) this.rows.delete(f.id);
    else if (this.rows.has(f.id) || !this.next) this.rows.set(f.id, f);
    else {
      // More pages wait behind the list: a newcomer shows only if it sorts among the rows loaded, and the list
      // keeps its length (the oldest row goes back behind "More"), so a sync of thousands stays light.
      const ordered = this.ordered();
      if (newestFirst(f, ordered[ordered.length - 1]) < 0) {
        this.rows.set(f.id, f);
        const last = this.ordered().at(-1);
        this.rows.delete(last.id);
        this.next = this.ordered().at(-1).id;
      }
    }
    this.renderSoon();
    if (this.selected === f.id) this.renderDetail(f);
    this.countsSoon();
  }

  /** One redraw per frame however many events arrive (a sync publishes one per user). */
  renderSoon() {
    if (this.drawing) return;
    this.drawing = requestAnimationFrame(() => {
      this.drawing = null;
      this.renderList();
    });
  }

  async startSync(full) {
    const linkId = $("#fol-sync-oa", this.root).value;
    if (!linkId) return;
    try {
      const job = await api.post(`/api/oa-links/${linkId}/followers/sync`, { full });
      this.jobUpdated(job);
      this.showError(null);
    } catch (err) {
      this.showError(err);
    }
  }

  /** job.updated: the progress of an OA's sync; a finished one reads the list and counts again. */
  jobUpdated(job) {
    if (job.kind !== KIND) return;
    const linkId = job.params.link_id;
    const known = this.jobs.get(linkId);
    if (known && known.id === job.id) {
      // A POST's answer may come after the job's later events: never step back.
      const rank = (j) => ({ queued: 0, running: 1 })[j.status] ?? 2;
      if (rank(job) < rank(known) || (rank(job) === rank(known) && (job.done ?? 0) < (known.done ?? 0))) return;
    }
    const finished = job.status === "completed" && known?.status !== "completed";
    this.jobs.set(linkId, job);
    this.renderJob();
    if (finished && this.loaded) this.reload().catch((err) => this.showError(err));
  }

  noticeText(notice) {
    const match = /^zalo_error (-?\d+): .*\((.*)\)$/.exec(notice || "");
    if (!match) return notice || "";
    const [, code, detail] = match;
    if (code === "-32" || code === "0") return t(`fol.notice.${code}`, { detail });
    return t("fol.notice.other", { code, detail });
  }

  renderJob() {
    const job = this.jobs.get($("#fol-sync-oa", this.root).value);
    const bar = $("#fol-progress", this.root);
    const text = $("#fol-job", this.root);
    const notice = $("#fol-notice", this.root);
    if (!job) {
      bar.hidden = true;
      text.textContent = "";
      notice.textContent = "";
      return;
    }
    const active = job.status === "queued" || job.status === "running";
    bar.hidden = !active && job.status !== "completed";
    bar.max = job.total || 1;
    bar.value = job.status === "completed" ? bar.max : job.done || 0;
    text.dataset.status = job.status;
    text.textContent = t(`fol.job.${job.status}`, {
      done: job.done ?? 0, total: job.total ?? "…", error: job.error ?? "",
      when: job.finished_at ? fmt.dateTime(job.finished_at) : "",
    });
    notice.textContent = active ? this.noticeText(job.notice) : ""; // why it waits, while it waits
    $("#fol-sync", this.root).disabled = active;
    $("#fol-sync-full", this.root).disabled = active;
  }
}
