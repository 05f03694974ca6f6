// Administration: the company's members (add, role, department, extension, remove) and its departments.
// Who may do what follows the product guide: owners add and change managers and users, managers only users.
import { api, ApiError } from "./api.js";
import {
  clearErrors, confirmDialog, field, formError, onSubmit, openDialog, requireFilled, showError, showRefusal,
} from "./admin_form.js";
import { $, h, option, replace } from "./dom.js";
import { addStrings, t } from "./i18n.js";

addStrings({
  vi: {
    "members.search": "Tìm theo tên, số điện thoại, máy lẻ…",
    "members.add": "Thêm thành viên",
    "members.name": "Họ tên", "members.phone": "Số điện thoại", "members.role": "Vai trò",
    "members.department": "Phòng ban", "members.extension": "Máy lẻ", "members.online": "Trực tuyến",
    "members.none": "Không có thành viên nào khớp.",
    "members.noDepartment": "— Không thuộc phòng ban —",
    "members.password": "Mật khẩu",
    "members.passwordGenerate": "Để hệ thống tạo mật khẩu",
    "members.passwordType": "Tự nhập mật khẩu",
    "members.added": "Đã thêm thành viên {name}.",
    "members.passwordOnce": "Mật khẩu này chỉ hiện một lần. Hãy gửi cho {name} qua kênh an toàn.",
    "members.copied": "Tôi đã sao chép mật khẩu vào nơi an toàn",
    "members.edit": "Sửa",
    "members.editTitle": "Sửa thành viên {name}",
    "members.assignExtension": "Gán máy lẻ",
    "members.removeExtension": "Gỡ máy lẻ",
    "members.remove": "Xoá khỏi công ty",
    "members.removeConfirm": "Xoá {name} khỏi công ty? Người này sẽ không đăng nhập và gọi bằng số của công ty được nữa.",
    "members.removeBoth": "Gỡ máy lẻ và xoá thành viên",
    "members.extensionPick": "Chọn hoặc nhập số máy lẻ",
    "members.you": "(bạn)",
    "departments.add": "Thêm phòng ban",
    "departments.name": "Tên phòng ban", "departments.description": "Mô tả công việc",
    "departments.count": "Số thành viên", "departments.none": "Chưa có phòng ban nào.",
    "departments.rename": "Đổi tên",
    "departments.delete": "Xoá",
    "departments.deleteConfirm": "Xoá phòng ban {name}?",
    "common.actions": "Thao tác", "common.confirm": "Xác nhận",
  },
  en: {
    "members.search": "Search by name, phone, extension…",
    "members.add": "Add member",
    "members.name": "Name", "members.phone": "Phone", "members.role": "Role",
    "members.department": "Department", "members.extension": "Extension", "members.online": "Online",
    "members.none": "No member matches.",
    "members.noDepartment": "— No department —",
    "members.password": "Password",
    "members.passwordGenerate": "Let the hub generate a password",
    "members.passwordType": "Type a password",
    "members.added": "Member {name} added.",
    "members.passwordOnce": "This password is shown only once. Give it to {name} through a safe channel.",
    "members.copied": "I have copied the password to a safe place",
    "members.edit": "Edit",
    "members.editTitle": "Edit member {name}",
    "members.assignExtension": "Assign extension",
    "members.removeExtension": "Remove extension",
    "members.remove": "Remove from company",
    "members.removeConfirm": "Remove {name} from the company? They will no longer log in or call with the company's numbers.",
    "members.removeBoth": "Remove extension and remove member",
    "members.extensionPick": "Choose or type an extension",
    "members.you": "(you)",
    "departments.add": "Add department",
    "departments.name": "Department name", "departments.description": "Job description",
    "departments.count": "Members", "departments.none": "No department yet.",
    "departments.rename": "Rename",
    "departments.delete": "Delete",
    "departments.deleteConfirm": "Delete the department {name}?",
    "common.actions": "Actions", "common.confirm": "Confirm",
  },
});

/** The roles `actor` may give (and the members whose role, department or place they may change). */
export function rolesGivenBy(actor) {
  return actor.role === "owner" ? ["manager", "user"] : actor.role === "manager" ? ["user"] : [];
}

function mayManage(actor, member) {
  return member.id !== actor.id && rolesGivenBy(actor).includes(member.role);
}

/** The company's departments, read once and kept in ctx by the department.* events. */
export async function departments(ctx) {
  if (!ctx.departments) {
    const { departments: list } = await api.get("/api/departments");
    ctx.departments = new Map(list.map((d) => [d.id, d]));
  }
  return ctx.departments;
}

export function applyDepartmentEvent(ctx, type, data) {
  if (!ctx.departments) return;
  if (type === "department.removed") ctx.departments.delete(data.id);
  else if (type === "department.created" || type === "department.updated") ctx.departments.set(data.id, data);
}

function departmentOptions(ctx, chosen) {
  return [option("", t("members.noDepartment"), !chosen),
    ...[...(ctx.departments?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name))
      .map((d) => option(d.id, d.name, d.id === chosen))];
}

function randomPassword() {
  const letters = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return [...bytes].map((b) => letters[b % letters.length]).join("");
}

export class Members {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
    this.search = h("input", { type: "search", id: "members-search", oninput: () => this.renderRows() });
    this.addButton = h("button", { type: "button", class: "primary", id: "members-add", onclick: () => this.addDialog() });
    this.tbody = h("tbody");
    this.head = h("tr");
    this.error = h("p", { class: "error", id: "members-error", role: "alert", hidden: true });
    replace(root,
      h("div", { class: "admin-toolbar" }, this.search, h("span", { class: "spacer" }), this.addButton), this.error,
      h("table", { class: "grid", id: "members-table" }, h("thead", {}, this.head), this.tbody));
  }

  async load() {
    await departments(this.ctx);
    this.render();
  }

  apply(type, data) {
    if (type.startsWith("department.")) applyDepartmentEvent(this.ctx, type, data);
    if (type.startsWith("member.") || type.startsWith("department.") || type === "presence.updated") this.renderRows();
  }

  render() {
    this.search.placeholder = t("members.search");
    this.addButton.textContent = t("members.add");
    replace(this.head, ["members.name", "members.phone", "members.role", "members.department", "members.extension",
      "members.online", "common.actions"].map((key) => h("th", {}, t(key))));
    this.renderRows();
  }

  renderRows() {
    const { ctx } = this;
    const query = this.search.value.trim().toLowerCase();
    const rows = [...ctx.members.values()]
      .filter((m) => !query || [m.name, m.phone, m.extension ?? ""].some((v) => v.toLowerCase().includes(query)))
      .sort((a, b) => a.name.localeCompare(b.name));
    replace(this.tbody, rows.length ? rows.map((m) => this.row(m))
      : h("tr", {}, h("td", { colspan: 7, class: "muted" }, t("members.none"))));
  }

  row(m) {
    const { ctx } = this;
    const status = ctx.presence.get(m.id) ?? "offline";
    const manage = mayManage(ctx.me, m);
    return h("tr", { dataset: { memberId: m.id } },
      h("td", { class: "member-name" }, m.name, m.id === ctx.me.id ? h("span", { class: "muted" }, ` ${t("members.you")}`) : null),
      h("td", {}, m.phone),
      h("td", { class: "member-role" }, t(`role.${m.role}`)),
      h("td", { class: "member-department" }, ctx.departments?.get(m.department_id)?.name ?? "–"),
      h("td", { class: "member-extension" }, m.extension ?? "–"),
      h("td", {}, h("span", { class: `presence ${status}`, dataset: { presence: status } }, t(`presence.${status}`))),
      h("td", { class: "row-actions" }, manage ? [
        h("button", { type: "button", class: "link edit", onclick: () => this.editDialog(m) }, t("members.edit")),
        m.extension
          ? h("button", { type: "button", class: "link extension", onclick: () => this.removeExtension(m) }, t("members.removeExtension"))
          : h("button", { type: "button", class: "link extension", onclick: () => this.extensionDialog(m) }, t("members.assignExtension")),
        h("button", { type: "button", class: "link danger remove", onclick: () => this.removeDialog(m) }, t("members.remove")),
      ] : null));
  }

  addDialog() {
    const roles = rolesGivenBy(this.ctx.me);
    const password = h("input", { name: "password", type: "text", autocomplete: "new-password", disabled: true });
    const mode = (value, key, checked) => h("label", { class: "check" },
      h("input", { type: "radio", name: "password_mode", value, checked,
        onchange: () => {
          password.disabled = value === "generate";
          if (value === "type" && !password.value) password.value = randomPassword();
        } }), t(key));
    const form = h("form", { id: "member-form", class: "admin-form" },
      h("h3", {}, t("members.add")),
      field("members.name", h("input", { name: "name", maxlength: 200 })),
      field("members.phone", h("input", { name: "phone", type: "tel", maxlength: 32 })),
      field("members.department", h("select", { name: "department_id" }, departmentOptions(this.ctx, null))),
      field("members.role", h("select", { name: "role" }, roles.map((r) => option(r, t(`role.${r}`), r === "user")))),
      h("fieldset", {}, h("legend", {}, t("members.password")),
        mode("generate", "members.passwordGenerate", true), mode("type", "members.passwordType", false),
        field("members.password", password)),
      formError(),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", onclick: () => dialog.close() }, t("form.cancel")),
        h("button", { type: "submit", class: "primary" }, t("members.add"))));
    const dialog = openDialog(form);
    onSubmit(form, async (data) => {
      if (!requireFilled(form, ["name", "phone"])) return;
      const typed = data.get("password_mode") === "type" ? data.get("password") : null;
      if (typed !== null && typed.length < 8) {
        showError(form, "password", t("form.tooShort"));
        return;
      }
      const created = await api.post("/api/members", {
        name: data.get("name").trim(), phone: data.get("phone").trim(), role: data.get("role"),
        department_id: data.get("department_id") || null, password: typed,
      });
      this.ctx.members.set(created.member.id, created.member);
      this.renderRows();
      this.showPassword(dialog, created.member, created.password ?? typed);
    });
  }

  // The password, once: the dialog closes only after the person says it is kept somewhere safe.
  showPassword(dialog, member, password) {
    const close = h("button", { type: "button", class: "primary", id: "password-close", disabled: true, onclick: () => dialog.close() },
      t("form.close"));
    const copied = h("input", { type: "checkbox", id: "password-copied", onchange: () => { close.disabled = !copied.checked; } });
    dialog.addEventListener("cancel", (event) => {
      if (!copied.checked) event.preventDefault();
    });
    replace(dialog, h("div", { class: "admin-form", id: "member-created" },
      h("h3", {}, t("members.added", { name: member.name })),
      h("dl", { class: "facts" },
        h("dt", {}, t("members.phone")), h("dd", {}, member.phone),
        h("dt", {}, t("members.role")), h("dd", {}, t(`role.${member.role}`)),
        h("dt", {}, t("members.password")), h("dd", {}, h("code", { id: "new-password", class: "secret" }, password))),
      h("p", { class: "note" }, t("members.passwordOnce", { name: member.name })),
      h("label", { class: "check" }, copied, t("members.copied")),
      h("div", { class: "dialog-actions" }, close)));
  }

  editDialog(m) {
    const roles = rolesGivenBy(this.ctx.me);
    const form = h("form", { id: "member-edit", class: "admin-form" },
      h("h3", {}, t("members.editTitle", { name: m.name })),
      field("members.name", h("input", { name: "name", value: m.name, maxlength: 200 })),
      field("members.role", h("select", { name: "role" }, roles.map((r) => option(r, t(`role.${r}`), r === m.role)))),
      field("members.department", h("select", { name: "department_id" }, departmentOptions(this.ctx, m.department_id))),
      formError(),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", onclick: () => dialog.close() }, t("form.cancel")),
        h("button", { type: "submit", class: "primary" }, t("form.save"))));
    const dialog = openDialog(form);
    onSubmit(form, async (data) => {
      if (!requireFilled(form, ["name"])) return;
      const change = {};
      if (data.get("name").trim() !== m.name) change.name = data.get("name").trim();
      if (data.get("role") !== m.role) change.role = data.get("role");
      if ((data.get("department_id") || null) !== (m.department_id ?? null)) change.department_id = data.get("department_id") || null;
      if (Object.keys(change).length) {
        const updated = await api.patch(`/api/members/${m.id}`, change);
        this.ctx.members.set(updated.id, updated);
        this.renderRows();
      }
      dialog.close();
    });
  }

  async extensionDialog(m) {
    // Free extensions are offered; any other number can be typed (the hub adds it to the directory).
    const { extensions } = await api.get("/api/extensions").catch(() => ({ extensions: [] }));
    const free = extensions.filter((e) => e.listed !== false && !e.member_id);
    const input = h("input", { name: "extension", list: "free-extensions", maxlength: 16 });
    const form = h("form", { id: "extension-form", class: "admin-form" },
      h("h3", {}, `${t("members.assignExtension")}: ${m.name}`),
      field("members.extensionPick", input),
      h("datalist", { id: "free-extensions" }, free.map((e) => option(e.number, e.name ?? e.number))),
      formError(),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", onclick: () => dialog.close() }, t("form.cancel")),
        h("button", { type: "submit", class: "primary" }, t("members.assignExtension"))));
    const dialog = openDialog(form);
    onSubmit(form, async (data) => {
      if (!requireFilled(form, ["extension"])) return;
      const updated = await api.put(`/api/members/${m.id}/extension`, { extension: data.get("extension").trim() });
      this.ctx.members.set(updated.id, updated);
      this.renderRows();
      dialog.close();
    });
  }

  async removeExtension(m) {
    this.error.hidden = true;
    try {
      const updated = await api.delete(`/api/members/${m.id}/extension`);
      if (updated) this.ctx.members.set(updated.id, updated);
      this.renderRows();
    } catch (err) {
      this.error.textContent = this.ctx.errorText(err);
      this.error.hidden = false;
    }
  }

  removeDialog(m) {
    const error = formError();
    const outs = h("div", { class: "dialog-actions" });
    const form = h("form", { id: "member-remove", class: "admin-form" },
      h("p", {}, t("members.removeConfirm", { name: m.name })), error, outs);
    const dialog = openDialog(form);
    const removeMember = async () => {
      await api.delete(`/api/members/${m.id}`);
      this.ctx.members.delete(m.id);
      this.renderRows();
      dialog.close();
    };
    replace(outs,
      h("button", { type: "button", onclick: () => dialog.close() }, t("form.cancel")),
      h("button", { type: "submit", class: "primary danger" }, t("members.remove")));
    onSubmit(form, async () => {
      try {
        await removeMember();
      } catch (err) {
        if (!(err instanceof ApiError) || err.code !== "has_extension") throw err;
        // The way out, in one click: take the extension away, then remove the member.
        showRefusal(form, err);
        replace(outs,
          h("button", { type: "button", onclick: () => dialog.close() }, t("form.cancel")),
          h("button", { type: "button", class: "primary danger", id: "remove-both", onclick: async () => {
            clearErrors(form);
            try {
              await api.delete(`/api/members/${m.id}/extension`);
              await removeMember();
            } catch (again) {
              if (again instanceof ApiError) showRefusal(form, again);
            }
          } }, t("members.removeBoth")));
      }
    });
  }
}

export class Departments {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
    this.tbody = h("tbody");
    this.head = h("tr");
    this.error = h("p", { class: "error", id: "departments-error", role: "alert", hidden: true });
    this.form = h("form", { id: "department-form", class: "admin-form inline-form" });
    onSubmit(this.form, async (data) => {
      if (!requireFilled(this.form, ["name"])) return;
      const created = await api.post("/api/departments", { name: data.get("name").trim(), description: data.get("description").trim() });
      this.ctx.departments.set(created.id, created);
      this.form.reset();
      this.renderRows();
    });
    replace(root, this.form, this.error,
      h("table", { class: "grid", id: "departments-table" }, h("thead", {}, this.head), this.tbody));
  }

  async load() {
    await departments(this.ctx);
    this.render();
  }

  apply(type, data) {
    if (type.startsWith("department.")) applyDepartmentEvent(this.ctx, type, data);
    if (type.startsWith("department.") || type.startsWith("member.")) this.renderRows();
  }

  render() {
    const name = this.form.elements.name?.value ?? "";
    const description = this.form.elements.description?.value ?? "";
    replace(this.form,
      field("departments.name", h("input", { name: "name", value: name, maxlength: 200 })),
      field("departments.description", h("input", { name: "description", value: description, maxlength: 2000, size: 40 })),
      formError(),
      h("button", { type: "submit", class: "primary" }, t("departments.add")));
    replace(this.head, ["departments.name", "departments.description", "departments.count", "common.actions"]
      .map((key) => h("th", {}, t(key))));
    this.renderRows();
  }

  count(id) {
    // Supervisors hold the whole member list, kept live: the count follows every move at once.
    return [...this.ctx.members.values()].filter((m) => m.department_id === id).length;
  }

  renderRows() {
    const list = [...(this.ctx.departments?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    replace(this.tbody, list.length ? list.map((d) => h("tr", { dataset: { departmentId: d.id } },
      h("td", { class: "department-name" }, d.name),
      h("td", { class: "muted" }, d.description || ""),
      h("td", { class: "department-count" }, String(this.count(d.id))),
      h("td", { class: "row-actions" },
        h("button", { type: "button", class: "link rename", onclick: () => this.renameDialog(d) }, t("departments.rename")),
        h("button", { type: "button", class: "link danger delete", onclick: () => this.remove(d) }, t("departments.delete")))))
      : h("tr", {}, h("td", { colspan: 4, class: "muted" }, t("departments.none"))));
  }

  renameDialog(d) {
    const form = h("form", { id: "department-edit", class: "admin-form" },
      field("departments.name", h("input", { name: "name", value: d.name, maxlength: 200 })),
      field("departments.description", h("textarea", { name: "description", maxlength: 2000, rows: 3 }, d.description || "")),
      formError(),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", onclick: () => dialog.close() }, t("form.cancel")),
        h("button", { type: "submit", class: "primary" }, t("form.save"))));
    const dialog = openDialog(form);
    onSubmit(form, async (data) => {
      if (!requireFilled(form, ["name"])) return;
      const updated = await api.patch(`/api/departments/${d.id}`, { name: data.get("name").trim(), description: data.get("description").trim() });
      this.ctx.departments.set(updated.id, updated);
      this.renderRows();
      dialog.close();
    });
  }

  async remove(d) {
    this.error.hidden = true;
    if (!(await confirmDialog(t("departments.deleteConfirm", { name: d.name }), t("departments.delete")))) return;
    try {
      await api.delete(`/api/departments/${d.id}`);
      this.ctx.departments.delete(d.id);
      this.renderRows();
    } catch (err) {
      this.error.textContent = err instanceof ApiError && err.code === "department_not_empty"
        ? t("error.department_not_empty", { count: err.details.member_count ?? this.count(d.id) })
        : this.ctx.errorText(err);
      this.error.hidden = false;
    }
  }
}
