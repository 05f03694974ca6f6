// The live connection (DESIGN section 5): the official socket.io-client, replay from `last_seq`,
// dedupe by `seq`, and a small banner while the connection is down.
//
// On every (re)connect the auth callback sends the highest seq this page has applied, so the hub
// replays exactly what was missed, in order, then says `sync.done`. An event whose seq is not above
// that mark has been applied already and is dropped: nothing shows twice. `sync.reset` (the gap is
// older than the hub keeps) hands control to `onReset`, which reloads the lists over REST.
import { io } from "/vendor/socket.io.esm.min.js";
import { observeHubTime } from "./format.js";
import { say, t } from "./i18n.js";

const EPHEMERAL = ["typing", "thread.viewing", "presence.updated", "wallboard.snapshot", "wallboard.counters"];

export function connectLive({ token, banner, onEvent, onEphemeral, onSynced, onReset, onRefused, auth = () => ({}) }) {
  let lastSeq = null;
  let everSynced = false;
  let retry = null;

  const show = (key) => {
    if (!banner) return;
    say(banner, () => (key ? t(key) : ""));
    banner.hidden = !key;
    banner.dataset.state = key ? key.split(".")[1] : "live";
  };
  show("conn.connecting");

  const socket = io({
    path: "/socket.io",
    transports: ["websocket"],
    reconnectionDelay: 300,
    reconnectionDelayMax: 3000,
    // `token` may be a function: a console that changed its password reconnects with the new token.
    auth: (cb) => cb({ token: typeof token === "function" ? token() : token, last_seq: lastSeq, ...auth() }),
  });

  socket.on("disconnect", (reason) => {
    show("conn.reconnecting");
    // The client retries lost connections by itself, but not one the hub closed (a revoked token, a
    // removed member, a replay that failed): try once more, and the hub's answer decides what follows.
    if (reason === "io server disconnect") {
      clearTimeout(retry);
      retry = setTimeout(() => socket.connect(), 500);
    }
  });
  socket.on("connect_error", (err) => {
    show(everSynced ? "conn.reconnecting" : "conn.connecting");
    if (socket.active) return; // a network failure: the client retries by itself
    // Refused by the hub, which says why as data.code: only "starting" is worth another try.
    if (err.data?.code === "starting") {
      clearTimeout(retry);
      retry = setTimeout(() => socket.connect(), 2000);
      return;
    }
    show(null); // not coming back: the page says why instead
    onRefused?.(err.data?.code, err.message);
  });

  const synced = async (seq, reset) => {
    lastSeq = Math.max(lastSeq ?? 0, seq);
    if (reset) await onReset?.();
    else await onSynced?.(!everSynced);
    everSynced = true;
    show(null);
  };
  socket.on("sync.done", ({ seq }) => synced(seq, false));
  socket.on("sync.reset", ({ seq }) => synced(seq, everSynced));

  socket.onAny((name, data) => {
    if (EPHEMERAL.includes(name)) {
      onEphemeral?.(name, data);
      return;
    }
    if (!data || typeof data.seq !== "number" || !data.type) return;
    if (lastSeq !== null && data.seq <= lastSeq) return; // already applied
    lastSeq = data.seq;
    observeHubTime(data.at);
    onEvent(data);
  });

  return {
    socket,
    emit: (name, data) => socket.connected && socket.emit(name, data),
    get lastSeq() {
      return lastSeq;
    },
  };
}
