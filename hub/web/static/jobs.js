// Long jobs in the console (hub.jobs): the preview of a staged upload — each row with its problems, edited or
// left out before anything is done — then a live progress bar (job.updated events) and each row's outcome.
// Used by every import and bulk send; the screen gives what its rows show and how one is edited.
import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { addStrings, t } from "./i18n.js";

addStrings({
  vi: {
    "job.staged": "Chờ xác nhận", "job.queued": "Đang chờ chạy", "job.running": "Đang chạy",
    "job.completed": "Hoàn tất", "job.failed": "Thất bại", "job.cancelled": "Đã hủy",
    "job.counts": "{total} dòng: {valid} hợp lệ, {invalid} có lỗi",
    "job.progress": "{done}/{total} · thành công {ok} · lỗi {failed}",
    "job.onlyProblems": "Chỉ dòng có lỗi", "job.line": "Dòng", "job.problems": "Lỗi", "job.outcome": "Kết quả",
    "job.edit": "Sửa", "job.save": "Lưu", "job.delete": "Xóa", "job.confirm": "Xác nhận và chạy",
    "job.cancel": "Hủy", "job.more": "Xem thêm", "job.none": "Không có dòng nào.",
    "problem.bad_phone": "Số điện thoại không hợp lệ", "problem.repeated_phone": "Số điện thoại bị lặp trong tệp",
    "problem.bad_reason": "Lý do không hợp lệ", "problem.missing_name": "Thiếu tên",
  },
  en: {
    "job.staged": "Waiting for confirmation", "job.queued": "Queued", "job.running": "Running",
    "job.completed": "Completed", "job.failed": "Failed", "job.cancelled": "Cancelled",
    "job.counts": "{total} rows: {valid} valid, {invalid} with problems",
    "job.progress": "{done}/{total} · succeeded {ok} · failed {failed}",
    "job.onlyProblems": "Only rows with problems", "job.line": "Line", "job.problems": "Problems", "job.outcome": "Outcome",
    "job.edit": "Edit", "job.save": "Save", "job.delete": "Delete", "job.confirm": "Confirm and run",
    "job.cancel": "Cancel", "job.more": "Show more", "job.none": "No rows.",
    "problem.bad_phone": "Not a phone number", "problem.repeated_phone": "Phone repeated in the file",
    "problem.bad_reason": "Unknown reason", "problem.missing_name": "Name missing",
  },
});

const PAGE = 100;

function problemText(code) {
  const key = `problem.${code}`;
  const text = t(key);
  return text === key ? code : text;
}

// One job's panel. `spec`: { columns: [{ label: () => text, cell: (data) => text, edit?: name }],
// outcome: (outcome) => text, confirmParams: () => params (or throws an Error whose message is shown),
// errorText: (err) => text }.
export class JobPanel {
  constructor(root, job, spec) {
    this.root = root;
    this.job = job;
    this.spec = spec;
    this.rows = [];
    this.onlyProblems = job.invalid > 0 && job.status === "staged";
    this.editing = null;
    this.error = null;
    this.more = false;
    this.loadRows().catch((err) => this.fail(err));
  }

  get id() {
    return this.job.id;
  }

  fail(err) {
    this.error = this.spec.errorText(err);
    this.render();
  }

  async loadRows(offset = 0) {
    const params = { offset, limit: PAGE, ...(this.onlyProblems ? { problems: true } : {}) };
    const { rows } = await api.get(`/api/jobs/${this.job.id}/rows`, params);
    this.rows = offset ? [...this.rows, ...rows] : rows;
    this.more = rows.length === PAGE;
    this.render();
  }

  // job.updated: progress and status, live; the rows' outcomes are read again once it finished.
  updated(job) {
    const finished = job.status !== this.job.status && ["completed", "failed", "cancelled"].includes(job.status);
    this.job = job;
    if (finished) this.loadRows().catch((err) => this.fail(err));
    else this.render();
  }

  async act(work) {
    this.error = null;
    try {
      await work();
    } catch (err) {
      this.fail(err);
    }
  }

  async save(row, form) {
    const data = { ...row.data };
    for (const column of this.spec.columns) if (column.edit) data[column.edit] = form.get(column.edit).trim();
    await this.act(async () => {
      const { row: saved } = await api.patch(`/api/jobs/${this.job.id}/rows/${row.n}`, { data });
      this.rows = this.rows.map((r) => (r.n === row.n ? saved : r));
      this.editing = null;
      await this.refresh();
    });
  }

  // After an edit: the counts again, and every row once none has a problem left.
  async refresh() {
    this.job = (await api.get(`/api/jobs/${this.job.id}`)).job;
    if (this.onlyProblems && !this.job.invalid) {
      this.onlyProblems = false;
      await this.loadRows();
    } else this.render();
  }

  async remove(row) {
    await this.act(async () => {
      await api.delete(`/api/jobs/${this.job.id}/rows/${row.n}`);
      this.rows = this.rows.filter((r) => r.n !== row.n);
      await this.refresh();
    });
  }

  async confirm() {
    await this.act(async () => {
      const params = this.spec.confirmParams ? this.spec.confirmParams() : {};
      this.job = (await api.post(`/api/jobs/${this.job.id}/confirm`, { params })).job;
      this.onlyProblems = false;
      this.render();
    });
  }

  async cancel() {
    await this.act(async () => {
      this.job = (await api.post(`/api/jobs/${this.job.id}/cancel`)).job;
      this.render();
    });
  }

  rowView(row) {
    const staged = this.job.status === "staged";
    if (this.editing === row.n) {
      return h("tr", { dataset: { n: row.n } }, h("td", { colspan: this.spec.columns.length + 3 },
        h("form", { class: "filter-bar job-row-edit", onsubmit: (event) => {
          event.preventDefault();
          this.save(row, new FormData(event.target));
        } },
        this.spec.columns.filter((c) => c.edit).map((c) => h("input", { name: c.edit, value: row.data[c.edit] ?? "", "aria-label": c.label() })),
        h("button", { type: "submit", class: "primary" }, t("job.save")))));
    }
    return h("tr", { dataset: { n: row.n, problems: row.problems.join(" ") }, class: row.problems.length ? "job-row-bad" : "" },
      h("td", {}, row.data.line ?? row.n + 1),
      this.spec.columns.map((c) => h("td", {}, c.cell(row.data))),
      h("td", {}, row.problems.length ? row.problems.map(problemText).join("; ")
        : row.outcome ? this.spec.outcome(row.outcome) : ""),
      h("td", {}, staged ? [
        this.spec.columns.some((c) => c.edit) ? h("button", { type: "button", class: "link", onclick: () => {
          this.editing = row.n;
          this.render();
        } }, t("job.edit")) : null,
        h("button", { type: "button", class: "link", onclick: () => this.remove(row) }, t("job.delete")),
      ] : null));
  }

  render() {
    const job = this.job;
    const staged = job.status === "staged";
    const active = job.status === "queued" || job.status === "running";
    const total = job.valid ?? job.total ?? 0;
    const percent = total ? Math.round((100 * job.done) / total) : 0;
    replace(this.root,
      h("div", { class: "job-head" },
        h("span", { class: `badge job ${job.status}`, dataset: { status: job.status } }, t(`job.${job.status}`)),
        h("span", {}, t("job.counts", { total: job.total ?? "?", valid: job.valid ?? "?", invalid: job.invalid ?? 0 })),
        staged || active ? null : h("span", { class: "job-result" }, t("job.progress", job)),
        job.error ? h("span", { class: "error", role: "alert" }, job.error) : null,
        job.notice && active ? h("span", { class: "muted" }, job.notice) : null),
      active || job.status === "completed" ? h("div", { class: "job-progress" },
        h("progress", { max: total || 1, value: job.done, "aria-label": t("job.progress", { ...job, total }) }),
        h("span", {}, `${percent}% · ${t("job.progress", { ...job, total })}`)) : null,
      staged ? h("div", { class: "filter-bar" },
        h("label", {}, h("input", { type: "checkbox", checked: this.onlyProblems, onchange: (event) => {
          this.onlyProblems = event.target.checked;
          this.loadRows().catch((err) => this.fail(err));
        } }), " ", t("job.onlyProblems")),
        this.spec.confirmControls ? this.spec.confirmControls() : null,
        h("button", { type: "button", class: "primary job-confirm", disabled: !job.valid, onclick: () => this.confirm() }, t("job.confirm")),
        h("button", { type: "button", class: "link", onclick: () => this.cancel() }, t("job.cancel"))) : null,
      active ? h("button", { type: "button", class: "link", onclick: () => this.cancel() }, t("job.cancel")) : null,
      this.error ? h("p", { class: "error", role: "alert" }, this.error) : null,
      h("table", { class: "grid job-rows" },
        h("thead", {}, h("tr", {}, h("th", {}, t("job.line")), this.spec.columns.map((c) => h("th", {}, c.label())),
          h("th", {}, staged ? t("job.problems") : t("job.outcome")), h("th", {}))),
        h("tbody", {}, this.rows.length ? this.rows.map((row) => this.rowView(row))
          : h("tr", {}, h("td", { colspan: this.spec.columns.length + 3, class: "muted" }, t("job.none"))))),
      this.more ? h("button", { type: "button", class: "link", onclick: () => this.loadRows(this.rows.length).catch((err) => this.fail(err)) }, t("job.more")) : null);
  }
}

// The job panels on screen, kept live by job.updated (console.js hands every such event here).
const panels = new Set();

export function showJob(panel) {
  for (const other of panels) if (other.root === panel.root) panels.delete(other);
  panels.add(panel);
}

export function jobUpdated(job) {
  for (const panel of panels) if (panel.id === job.id) panel.updated(job);
}
