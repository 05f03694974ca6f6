// Vietnamese (the default) and English. A page marks its fixed text with data-i18n="key";
// scripts call t("key", {name: ...}). The choice is kept in localStorage and switched live.

const STRINGS = {
  vi: {
    "app.title": "Trung tâm Zalo & tổng đài",
    "lang.switch": "English",
    "login.title": "Đăng nhập",
    "login.phone": "Số điện thoại",
    "login.password": "Mật khẩu",
    "login.submit": "Đăng nhập",
    "login.company": "Chọn công ty",
    "login.choose": "Tài khoản này thuộc nhiều công ty: chọn một.",
    "login.failed": "Sai số điện thoại hoặc mật khẩu.",
    "login.locked": "Nhập sai mật khẩu quá nhiều lần. Thử lại sau {seconds} giây.",
    "login.expired": "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại.",
    "login.removed": "Tài khoản của bạn không còn thuộc công ty đó.",
    "login.password_changed": "Mật khẩu của tài khoản đã được đổi ở nơi khác: vui lòng đăng nhập lại bằng mật khẩu mới.",
    "role.owner": "Chủ sở hữu", "role.manager": "Quản lý", "role.user": "Nhân viên",
    "conn.connecting": "Đang kết nối…",
    "conn.reconnecting": "Mất kết nối — đang kết nối lại…",
    "conn.reset": "Đã tải lại dữ liệu sau khi mất kết nối lâu.",
    "nav.chats": "Hội thoại", "nav.calls": "Cuộc gọi", "nav.consents": "Đồng ý nhận cuộc gọi (ZCC)",
    "nav.logout": "Đăng xuất", "nav.wallboard": "Màn hình treo tường",
    "presence.available": "Sẵn sàng", "presence.away": "Vắng mặt", "presence.offline": "Ngoại tuyến",
    "filter.search": "Tìm theo tên, tin nhắn…",
    "filter.status.open": "Đang mở", "filter.status.resolved": "Đã xong", "filter.status.all": "Tất cả",
    "filter.unread": "Chưa đọc", "filter.label.any": "Mọi nhãn",
    "filter.assignee.any": "Mọi người phụ trách", "filter.assignee.me": "Của tôi",
    "filter.assignee.none": "Đang chờ phân công", "filter.oa.any": "Mọi OA",
    "threads.empty": "Chưa có hội thoại nào.",
    "threads.more": "Tải thêm hội thoại cũ hơn",
    "thread.anonymous": "Khách ẩn danh",
    "thread.unassigned": "Chưa phân công",
    "thread.pick": "Chọn một hội thoại ở bên trái.",
    "thread.removed": "Hội thoại này đã được chuyển cho người khác.",
    "thread.assignee": "Phụ trách",
    "thread.queue": "— Trả về hàng chờ —",
    "thread.labels": "Nhãn",
    "thread.addLabel": "+ Thêm nhãn",
    "thread.resolve": "Đánh dấu đã xong",
    "thread.reopen": "Mở lại",
    "thread.resolved": "Đã xong",
    "thread.phone": "Điện thoại",
    "thread.address": "Địa chỉ",
    "thread.follower": "Đang theo dõi OA",
    "thread.notFollower": "Chưa theo dõi OA",
    "thread.older": "Tải tin cũ hơn",
    "window.free": "Miễn phí", "window.charged": "Tính phí", "window.blocked": "Đã khoá",
    "window.until": "đến {time}",
    "window.blockedHint": "Quá 7 ngày từ lần tương tác cuối: không thể trả lời cho tới khi khách nhắn lại.",
    "viewing": "{names} đang xem",
    "typing": "{name} đang soạn tin…",
    "someone": "Một người khác",
    "composer.placeholder": "Nhập tin nhắn… (Enter để gửi, Shift+Enter xuống dòng)",
    "composer.send": "Gửi",
    "composer.attach": "Đính kèm",
    "composer.requestInfo": "Xin thông tin liên hệ",
    "composer.uploading": "Đang tải tệp lên…",
    "msg.sending": "Đang gửi", "msg.sent": "Đã gửi", "msg.delivered": "Đã nhận", "msg.seen": "Đã xem",
    "msg.failed": "Gửi lỗi", "msg.received": "",
    "msg.requestInfo": "Đã gửi yêu cầu chia sẻ thông tin",
    "msg.location": "Vị trí",
    "msg.sticker": "Nhãn dán",
    "msg.file": "Tệp",
    "msg.image": "Hình ảnh",
    "msg.openMap": "Mở bản đồ",
    "msg.byZaloTools": "gửi từ công cụ của Zalo",
    "calls.live": "Cuộc gọi đang diễn ra",
    "calls.history": "Lịch sử cuộc gọi",
    "calls.extensions": "Máy nhánh",
    "calls.none": "Không có cuộc gọi nào.",
    "calls.from": "Từ", "calls.to": "Đến", "calls.hotline": "Hotline", "calls.department": "Phòng ban", "calls.extension": "Máy nhánh",
    "calls.state": "Trạng thái", "calls.time": "Thời điểm", "calls.duration": "Thời lượng",
    "calls.outcome": "Kết quả", "calls.reason": "Lý do", "calls.direction": "Chiều",
    "calls.filter": "Lọc", "calls.older": "Cũ hơn", "calls.exportXlsx": "Xuất Excel", "calls.exportCsv": "Xuất CSV",
    "filter.exportXlsx": "Xuất Excel", "filter.exportCsv": "Xuất CSV", "calls.recording": "Ghi âm", "calls.recordingLink": "Tải về",
    "calls.fromDate": "Từ ngày", "calls.toDate": "Đến ngày", "calls.phone": "Số khách (0…, 84…, +84…)",
    "calls.anyStatus": "Mọi kết quả", "calls.anyDirection": "Mọi chiều", "calls.anyDepartment": "Mọi phòng ban",
    "dir.inbound": "Gọi vào", "dir.outbound": "Gọi ra", "dir.internal": "Nội bộ",
    "outcome.answered": "Đã nghe", "outcome.missed": "Gọi nhỡ", "outcome.short_abandoned": "Bỏ máy sớm",
    "outcome.failed": "Lỗi", "outcome.unanswered": "Không nghe",
    "state.ringing": "Đang đổ chuông", "state.queued": "Đang chờ", "state.answered": "Đang nói chuyện",
    "state.held": "Đang giữ máy", "state.ended": "Đã kết thúc", "state.new": "Mới",
    "ext.idle": "Rảnh", "ext.ringing": "Đổ chuông", "ext.in_call": "Đang gọi", "ext.on_hold": "Giữ máy",
    "ext.offline": "Ngoại tuyến",
    "missed.title": "Cuộc gọi nhỡ",
    "missed.caller": "Người gọi", "missed.rang": "Đã đổ chuông", "missed.nobody": "chưa đổ chuông máy nào",
    "missed.reason": "Lý do", "missed.dismiss": "Đóng",
    "missedList.title": "Cuộc gọi nhỡ cần xử lý", "missedList.none": "Không có cuộc gọi nhỡ nào.",
    "missedList.waited": "Khách chờ", "missedList.state": "Trạng thái", "missedList.assignee": "Người phụ trách",
    "missedList.actions": "Xử lý", "missedList.nobody": "Chưa giao", "missedList.note": "Đã làm gì?",
    "missedList.handle": "Đánh dấu đã xử lý",
    "missedList.counts": "Chưa xử lý: {open} · Đã gọi lại: {called_back} · Đã xử lý: {handled}",
    "missedState.open": "Chưa xử lý", "missedState.called_back": "Đã gọi lại", "missedState.handled": "Đã xử lý",
    "consents.title": "Yêu cầu đồng ý nhận cuộc gọi",
    "consents.none": "Chưa có yêu cầu nào.",
    "consents.phone": "Số điện thoại", "consents.reason": "Mã lý do", "consents.callType": "Loại cuộc gọi",
    "consents.status": "Trạng thái", "consents.created": "Gửi lúc", "consents.expires": "Hết hạn",
    "consents.resend": "Gửi lại được từ", "consents.request": "Gửi yêu cầu", "consents.oa": "OA",
    "consents.anyStatus": "Mọi trạng thái",
    "reason.101": "101 · Tư vấn sản phẩm, dịch vụ", "reason.103": "103 · Xác nhận đơn hàng, lịch hẹn",
    "reason.105": "105 · Thông báo giao hàng", "reason.106": "106 · Thông báo chuyến bay",
    "reason.107": "107 · Cập nhật đơn hàng",
    "callType.audio": "Gọi thoại", "callType.video": "Gọi video", "callType.audio_and_video": "Thoại và video",
    "consent.waiting": "Đang chờ", "consent.agreed": "Đồng ý", "consent.rejected": "Từ chối",
    "consent.no_response": "Không phản hồi", "consent.expired": "Hết hạn", "consent.failed": "Gửi lỗi",
    "wb.title": "Màn hình tổng đài",
    "wb.offered": "Cuộc gọi đến", "wb.answered": "Đã nghe", "wb.missed": "Gọi nhỡ",
    "wb.abandonment": "Tỉ lệ bỏ máy", "wb.longestWait": "Chờ lâu nhất", "wb.serviceLevel": "Mức phục vụ",
    "wb.answerRate": "Tỉ lệ nghe máy", "wb.averageWait": "Chờ trung bình", "wb.averageTalk": "Đàm thoại trung bình",
    "wb.shortAbandoned": "Gác máy sớm",
    "wb.live": "Cuộc gọi đang diễn ra", "wb.extensions": "Máy nhánh", "wb.noCalls": "Không có cuộc gọi nào",
    "wb.fullscreen": "Toàn màn hình",
    "wb.noToken": "Mở trang này bằng đường dẫn màn hình treo tường (…/wallboard#token=…) do chủ sở hữu hoặc quản lý tạo.",
    "wb.refused": "Mã màn hình không hợp lệ hoặc đã bị thu hồi: {reason}",
    "wb.issued": "Đường dẫn màn hình treo tường (chỉ hiện một lần):",
    "wb.name": "Tên màn hình",
    "error.generic": "Có lỗi: {message}",
    "error.reply_window_blocked": "Không thể trả lời: đã quá 7 ngày kể từ lần cuối khách tương tác.",
    "error.forbidden": "Bạn không có quyền làm việc này.",
    "error.thread_not_found": "Không tìm thấy hội thoại (có thể đã được chuyển cho người khác).",
    "error.consent_resend_refused": "Chưa được gửi lại yêu cầu; gửi lại được từ {until}.",
    "error.network": "Không kết nối được tới máy chủ.",
    "refused": "Zalo từ chối: {reason}",
  },
  en: {
    "app.title": "Zalo & PBX hub",
    "lang.switch": "Tiếng Việt",
    "login.title": "Log in",
    "login.phone": "Phone number",
    "login.password": "Password",
    "login.submit": "Log in",
    "login.company": "Choose a company",
    "login.choose": "This account belongs to several companies: choose one.",
    "login.failed": "Wrong phone number or password.",
    "login.locked": "Too many wrong passwords. Try again in {seconds} seconds.",
    "login.expired": "Your session has expired; please log in again.",
    "login.removed": "Your account no longer belongs to that company.",
    "login.password_changed": "This account's password was changed elsewhere: please log in with the new password.",
    "role.owner": "Owner", "role.manager": "Manager", "role.user": "Agent",
    "conn.connecting": "Connecting…",
    "conn.reconnecting": "Connection lost — reconnecting…",
    "conn.reset": "Reloaded after a long disconnection.",
    "nav.chats": "Chats", "nav.calls": "Calls", "nav.consents": "Call consent (ZCC)",
    "nav.logout": "Log out", "nav.wallboard": "Wallboard",
    "presence.available": "Available", "presence.away": "Away", "presence.offline": "Offline",
    "filter.search": "Search names, messages…",
    "filter.status.open": "Open", "filter.status.resolved": "Resolved", "filter.status.all": "All",
    "filter.unread": "Unread", "filter.label.any": "Any label",
    "filter.assignee.any": "Any assignee", "filter.assignee.me": "Mine",
    "filter.assignee.none": "Waiting in queue", "filter.oa.any": "Any OA",
    "threads.empty": "No conversations yet.",
    "threads.more": "Load older conversations",
    "thread.anonymous": "Anonymous visitor",
    "thread.unassigned": "Unassigned",
    "thread.pick": "Pick a conversation on the left.",
    "thread.removed": "This conversation was reassigned to someone else.",
    "thread.assignee": "Assignee",
    "thread.queue": "— Back to the queue —",
    "thread.labels": "Labels",
    "thread.addLabel": "+ Add label",
    "thread.resolve": "Resolve",
    "thread.reopen": "Reopen",
    "thread.resolved": "Resolved",
    "thread.phone": "Phone",
    "thread.address": "Address",
    "thread.follower": "Follows the OA",
    "thread.notFollower": "Does not follow the OA",
    "thread.older": "Load older messages",
    "window.free": "Free", "window.charged": "Charged", "window.blocked": "Blocked",
    "window.until": "until {time}",
    "window.blockedHint": "More than 7 days since the customer's last interaction: no reply until they write again.",
    "viewing": "{names} viewing",
    "typing": "{name} is typing…",
    "someone": "Someone else",
    "composer.placeholder": "Type a message… (Enter sends, Shift+Enter for a new line)",
    "composer.send": "Send",
    "composer.attach": "Attach",
    "composer.requestInfo": "Request contact info",
    "composer.uploading": "Uploading…",
    "msg.sending": "Sending", "msg.sent": "Sent", "msg.delivered": "Delivered", "msg.seen": "Seen",
    "msg.failed": "Failed", "msg.received": "",
    "msg.requestInfo": "Asked the customer to share their info",
    "msg.location": "Location",
    "msg.sticker": "Sticker",
    "msg.file": "File",
    "msg.image": "Image",
    "msg.openMap": "Open map",
    "msg.byZaloTools": "sent from Zalo's own tools",
    "calls.live": "Live calls",
    "calls.history": "Call history",
    "calls.extensions": "Extensions",
    "calls.none": "No calls.",
    "calls.from": "From", "calls.to": "To", "calls.hotline": "Hotline", "calls.department": "Department", "calls.extension": "Extension",
    "calls.state": "State", "calls.time": "Time", "calls.duration": "Duration",
    "calls.outcome": "Outcome", "calls.reason": "Reason", "calls.direction": "Direction",
    "calls.filter": "Filter", "calls.older": "Older", "calls.exportXlsx": "Export Excel", "calls.exportCsv": "Export CSV",
    "filter.exportXlsx": "Export Excel", "filter.exportCsv": "Export CSV", "calls.recording": "Recording", "calls.recordingLink": "Download",
    "calls.fromDate": "From date", "calls.toDate": "To date", "calls.phone": "Customer number (0…, 84…, +84…)",
    "calls.anyStatus": "Any outcome", "calls.anyDirection": "Any direction", "calls.anyDepartment": "Any department",
    "dir.inbound": "Inbound", "dir.outbound": "Outbound", "dir.internal": "Internal",
    "outcome.answered": "Answered", "outcome.missed": "Missed", "outcome.short_abandoned": "Short abandoned",
    "outcome.failed": "Failed", "outcome.unanswered": "Unanswered",
    "state.ringing": "Ringing", "state.queued": "Queued", "state.answered": "Talking",
    "state.held": "On hold", "state.ended": "Ended", "state.new": "New",
    "ext.idle": "Idle", "ext.ringing": "Ringing", "ext.in_call": "In call", "ext.on_hold": "On hold",
    "ext.offline": "Offline",
    "missed.title": "Missed call",
    "missed.caller": "Caller", "missed.rang": "Rang", "missed.nobody": "no extension rang",
    "missed.reason": "Reason", "missed.dismiss": "Dismiss",
    "missedList.title": "Missed calls to follow up", "missedList.none": "No missed calls.",
    "missedList.waited": "Waited", "missedList.state": "State", "missedList.assignee": "Assignee",
    "missedList.actions": "Follow-up", "missedList.nobody": "Unassigned", "missedList.note": "What was done?",
    "missedList.handle": "Mark handled",
    "missedList.counts": "Open: {open} · Called back: {called_back} · Handled: {handled}",
    "missedState.open": "Open", "missedState.called_back": "Called back", "missedState.handled": "Handled",
    "consents.title": "Call consent requests",
    "consents.none": "No requests yet.",
    "consents.phone": "Phone", "consents.reason": "Reason code", "consents.callType": "Call type",
    "consents.status": "Status", "consents.created": "Sent", "consents.expires": "Expires",
    "consents.resend": "Can resend from", "consents.request": "Send request", "consents.oa": "OA",
    "consents.anyStatus": "Any status",
    "reason.101": "101 · Product or service advice", "reason.103": "103 · Order or appointment confirmation",
    "reason.105": "105 · Delivery notice", "reason.106": "106 · Flight announcement",
    "reason.107": "107 · Order update",
    "callType.audio": "Voice", "callType.video": "Video", "callType.audio_and_video": "Voice and video",
    "consent.waiting": "Waiting", "consent.agreed": "Agreed", "consent.rejected": "Rejected",
    "consent.no_response": "No response", "consent.expired": "Expired", "consent.failed": "Failed to send",
    "wb.title": "Contact centre wallboard",
    "wb.offered": "Offered", "wb.answered": "Answered", "wb.missed": "Missed",
    "wb.abandonment": "Abandonment", "wb.longestWait": "Longest wait now", "wb.serviceLevel": "Service level",
    "wb.answerRate": "Answer rate", "wb.averageWait": "Average wait", "wb.averageTalk": "Average talk",
    "wb.shortAbandoned": "Short abandoned",
    "wb.live": "Live calls", "wb.extensions": "Extensions", "wb.noCalls": "No calls right now",
    "wb.fullscreen": "Full screen",
    "wb.noToken": "Open this page with a wallboard link (…/wallboard#token=…) issued by an owner or manager.",
    "wb.refused": "The wallboard token is invalid or revoked: {reason}",
    "wb.issued": "Wallboard link (shown once):",
    "wb.name": "Display name",
    "error.generic": "Error: {message}",
    "error.reply_window_blocked": "Cannot reply: more than 7 days since the customer last interacted.",
    "error.forbidden": "You are not allowed to do this.",
    "error.thread_not_found": "Conversation not found (it may have been reassigned).",
    "error.consent_resend_refused": "Cannot resend yet; allowed from {until}.",
    "error.network": "Cannot reach the server.",
    "refused": "Zalo refused: {reason}",
  },
};

const listeners = new Set();
const said = new Map(); // element -> () => its text, for text made from data (see `say`)

// A screen module brings its own strings ({vi: {...}, en: {...}}), so the screens do not share one file.
export function addStrings(strings) {
  for (const language of Object.keys(STRINGS)) Object.assign(STRINGS[language], strings[language] || {});
}

export function lang() {
  const saved = localStorage.getItem("hub.lang");
  return saved === "en" ? "en" : "vi";
}

export function locale() {
  return lang() === "vi" ? "vi-VN" : "en-GB";
}

export function t(key, vars = {}) {
  const text = STRINGS[lang()][key] ?? STRINGS.vi[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (vars[name] ?? ""));
}

export function has(key) {
  return key in STRINGS.vi;
}

export function applyI18n(root = document) {
  document.documentElement.lang = lang();
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
}

// Shows text() in `el` now and again after every language switch: for text made from data (an error,
// a refusal, a connection state) that no fixed data-i18n key can name. Every writer of such an
// element goes through here, so a switch never brings back an older text.
export function say(el, text) {
  said.set(el, text);
  el.textContent = text();
}

export function setLang(value) {
  localStorage.setItem("hub.lang", value);
  applyI18n();
  for (const [el, text] of said) {
    if (el.isConnected) el.textContent = text();
    else said.delete(el);
  }
  for (const listener of listeners) listener();
}

export function onLangChange(listener) {
  listeners.add(listener);
}

// One button that switches to the other language.
export function langButton(button) {
  button.addEventListener("click", () => setLang(lang() === "vi" ? "en" : "vi"));
}
