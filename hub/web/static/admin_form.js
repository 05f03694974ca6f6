// What every administration form shares: a labelled field with room for its error, the hub's refusals
// shown next to the field they concern (in the reader's language), and a modal dialog.
import { ApiError } from "./api.js";
import { h } from "./dom.js";
import { addStrings, has, t } from "./i18n.js";

addStrings({
  vi: {
    "form.required": "Vui lòng nhập trường này.",
    "form.invalid": "Giá trị không hợp lệ.",
    "form.mismatch": "Hai mật khẩu không khớp.",
    "form.tooShort": "Mật khẩu cần ít nhất 8 ký tự.",
    "form.saved": "Đã lưu.",
    "form.save": "Lưu",
    "form.cancel": "Huỷ",
    "form.close": "Đóng",
    "error.member_exists": "Số điện thoại này đã là thành viên của công ty.",
    "error.department_not_found": "Phòng ban không tồn tại.",
    "error.department_not_empty": "Phòng ban vẫn còn {count} thành viên: chuyển họ sang phòng ban khác trước khi xoá.",
    "error.has_extension": "Thành viên này đang giữ một số máy lẻ: cần gỡ số máy lẻ trước khi xoá khỏi công ty.",
    "error.extension_in_use": "Số máy lẻ này đang được giao cho một thành viên khác.",
    "error.extension_taken": "Số máy lẻ này đang được giao cho một thành viên khác.",
    "error.extension_not_found": "Số máy lẻ không có trong danh bạ: thêm nó ở mục Tổng đài trước.",
    "error.extension_exists": "Số máy lẻ này đã có.",
    "error.hotline_exists": "Số hotline này đã có.",
    "error.label_exists": "Đã có nhãn với tên này.",
    "error.member_not_found": "Không tìm thấy thành viên (có thể đã bị xoá).",
    "error.bad_credentials": "Mật khẩu hiện tại không đúng.",
    "error.wrong_password": "Mật khẩu hiện tại không đúng.",
    "error.invalid_timezone": "Múi giờ không hợp lệ (ví dụ: Asia/Ho_Chi_Minh).",
    "error.role_not_allowed": "Bạn không được giao vai trò này.",
    "error.member_changed": "Thành viên vừa được người khác thay đổi: xem lại rồi thử lại.",
    "error.department_exists": "Đã có phòng ban với tên này.",
  },
  en: {
    "form.required": "Please fill in this field.",
    "form.invalid": "This value is not valid.",
    "form.mismatch": "The two passwords differ.",
    "form.tooShort": "A password needs at least 8 characters.",
    "form.saved": "Saved.",
    "form.save": "Save",
    "form.cancel": "Cancel",
    "form.close": "Close",
    "error.member_exists": "This phone number is already a member of the company.",
    "error.department_not_found": "No such department.",
    "error.department_not_empty": "The department still has {count} member(s): move them to another department first.",
    "error.has_extension": "This member holds an extension: it must be removed before they leave the company.",
    "error.extension_in_use": "This extension is held by another member.",
    "error.extension_taken": "This extension is held by another member.",
    "error.extension_not_found": "This extension is not in the directory: add it under Telephony first.",
    "error.extension_exists": "This extension already exists.",
    "error.hotline_exists": "This hotline already exists.",
    "error.label_exists": "A label with this name exists already.",
    "error.member_not_found": "Member not found (they may have been removed).",
    "error.bad_credentials": "The current password is wrong.",
    "error.wrong_password": "The current password is wrong.",
    "error.invalid_timezone": "Not a valid time zone (for example Asia/Ho_Chi_Minh).",
    "error.role_not_allowed": "You may not give this role.",
    "error.member_changed": "Someone else changed this member meanwhile: check and try again.",
    "error.department_exists": "A department with this name exists already.",
  },
});

// Which field a refusal concerns when the hub names none.
const FIELD_OF_CODE = {
  member_exists: "phone",
  department_not_found: "department_id",
  extension_in_use: "extension",
  extension_taken: "extension",
  extension_not_found: "extension",
  extension_exists: "number",
  hotline_exists: "number",
  label_exists: "name",
  department_exists: "name",
  bad_credentials: "current",
  wrong_password: "current",
  invalid_timezone: "timezone",
  role_not_allowed: "role",
};

/** A labelled input with its error line underneath (`data-error-for` = the input's name). */
export function field(labelKey, input, hintKey = null) {
  return h("label", { class: "field" },
    h("span", { class: "field-name" }, t(labelKey)),
    input,
    hintKey ? h("small", { class: "muted" }, t(hintKey)) : null,
    h("small", { class: "error field-error", dataset: { errorFor: input.name }, role: "alert", hidden: true }));
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error, .form-error")) {
    el.hidden = true;
    el.textContent = "";
  }
}

export function showError(form, name, text) {
  const slot = name && form.querySelector(`[data-error-for="${name}"]`);
  const target = slot || form.querySelector(".form-error");
  if (!target) return;
  target.textContent = text;
  target.hidden = false;
}

/** The refusal's words in the reader's language, placed next to the field it concerns. */
export function showRefusal(form, err, vars = {}) {
  let name = err.details?.field ?? FIELD_OF_CODE[err.code] ?? null;
  let text;
  if (err instanceof ApiError && err.code === "invalid_body") {
    // "settings.max_open_threads: Input should be ..." -> the field named so, or by its last parts
    const parts = err.message.split(":")[0].split(".");
    name = name ?? parts.map((_, i) => parts.slice(i).join(".")).find((n) => form.querySelector(`[data-error-for="${n}"]`));
    text = t("form.invalid");
  } else if (err instanceof ApiError && has(`error.${err.code}`)) {
    text = t(`error.${err.code}`, { ...err.details, ...vars });
  } else {
    text = t("error.generic", { message: err.message });
  }
  showError(form, name, text);
}

/** Fields that must not be empty: marked next to the field; true when all are filled. */
export function requireFilled(form, names) {
  let ok = true;
  for (const name of names) {
    if (!String(form.elements[name]?.value ?? "").trim()) {
      showError(form, name, t("form.required"));
      ok = false;
    }
  }
  return ok;
}

/** A form that clears its errors, checks itself, then sends; a refusal stays on the form, nothing saved. */
export function onSubmit(form, handler) {
  form.noValidate = true; // the hub's rules, in the reader's language, next to the field: not the browser's bubbles
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try {
      await handler(new FormData(form));
    } catch (err) {
      if (err instanceof ApiError) showRefusal(form, err);
      else console.error(err);
    } finally {
      if (button) button.disabled = false;
    }
  });
}

export function formError() {
  return h("p", { class: "error form-error", role: "alert", hidden: true });
}

/** A modal dialog appended to the page, removed when closed. */
export function openDialog(...children) {
  const dialog = h("dialog", { class: "admin-dialog" }, ...children);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** Asks before something that cannot be undone; resolves true when confirmed. */
export function confirmDialog(text, confirmText) {
  return new Promise((resolve) => {
    let answer = false;
    const dialog = openDialog(h("form", { method: "dialog", class: "admin-form confirm-form" },
      h("p", {}, text),
      h("div", { class: "dialog-actions" },
        h("button", { type: "submit", value: "no" }, t("form.cancel")),
        h("button", { type: "submit", value: "yes", class: "primary danger", id: "confirm-yes", onclick: () => { answer = true; } },
          confirmText))));
    dialog.addEventListener("close", () => resolve(answer));
  });
}
