// The operators' dashboard. Polls /ops/api/snapshot and redraws; no framework, no network
// access beyond this server, so it works on an isolated agency network. Everything shown is
// built with textContent, never innerHTML: dead-letter reasons come from the records.
// The API needs an operator's bearer token: asked for once, kept in this tab's
// sessionStorage (gone when the tab closes), sent only in the Authorization header.
"use strict";

const TEXT = {
  id: {
    title: "Lintas — Pemantauan Operasional", throughput: "Peristiwa per detik",
    events_per_s: "peristiwa/detik", events_seen: "peristiwa sejak dasbor dibuka",
    per_topic: "Per topik", per_type: "Per jenis peristiwa",
    groups: "Grup konsumen (pelanggan instansi dan integrator)", group: "Grup", status: "Status",
    lag: "Tertinggal", lag_partitions: "Tertinggal per partisi", progress: "Terakhir maju",
    members: "Anggota", burrow_help: "OK: mengikuti. WARN: maju tetapi makin tertinggal. STALL: tidak maju padahal tertinggal. STOP: komit berhenti.",
    dead_letters: "Surat mati (dead letters)", subscriber: "Pelanggan", count: "Jumlah",
    newest: "Terbaru", age: "Umur", reason: "Alasan", view: "Lihat", close: "Tutup",
    alerts: "Peringatan terbaru", rule: "Aturan", owner: "Pemilik", severity: "Tingkat",
    summary: "Ringkasan", services: "Kesehatan layanan", ready: "SIAP", not_ready: "TIDAK SIAP",
    range_hours: "3 jam terakhir", range_minutes: "10 menit terakhir",
    last_minutes: "(10 menit terakhir)", last_hours: "(3 jam terakhir)",
    updated: "diperbarui", ago: "lalu", never: "belum pernah", none: "tidak ada",
    open_alerts: "terbuka", no_data: "menunggu data…", unreachable: "tidak dapat dihubungi",
    broker_error: "Broker tidak dapat dibaca: ", caught_up: "mengikuti",
    st_raised: "baru", st_acknowledged: "diterima", st_escalated: "dieskalasi", st_closed: "ditutup",
    groups_ok: "grup OK", of: "dari", letter_headers: "Header", letter_body: "Isi",
    letter_body_note: "byte, tidak ditampilkan (bisa berisi data pribadi)", schema: "skema",
    sign_in_title: "Masuk sebagai operator", token_label: "Token operator", sign_in: "Masuk",
    sign_out: "Keluar", unauthorized: "Token tidak dikenal atau kedaluwarsa.",
    forbidden: "Token ini tidak memiliki peran operator.", too_many: "Terlalu banyak permintaan; coba lagi nanti.",
    groups_unlisted: "Broker ini tidak mendaftar grup konsumennya (broker tertanam `lintas up`): yang tampil hanya pelanggan Lintas dan grup yang dinamai di bawah, setelah mengomit offset.",
    named_waiting: "Dinamai, belum ada offset yang dikomit", name_group_label: "Pantau grup konsumen lain dengan namanya",
    name_group: "Pantau", named_ok: "Dipantau:", src_named: "dinamai", src_broker: "dari broker",
  },
  en: {
    title: "Lintas — Operations", throughput: "Events per second",
    events_per_s: "events/s", events_seen: "events since the dashboard opened",
    per_topic: "By topic", per_type: "By event type",
    groups: "Consumer groups (agencies' subscribers and integrators)", group: "Group", status: "Status",
    lag: "Lag", lag_partitions: "Lag per partition", progress: "Last progress",
    members: "Members", burrow_help: "OK: keeping up. WARN: advancing but falling behind. STALL: not advancing while behind. STOP: commits stopped.",
    dead_letters: "Dead letters", subscriber: "Subscriber", count: "Count",
    newest: "Newest", age: "Age", reason: "Reason", view: "View", close: "Close",
    alerts: "Newest alerts", rule: "Rule", owner: "Owner", severity: "Severity",
    summary: "Summary", services: "Service health", ready: "READY", not_ready: "NOT READY",
    range_hours: "Last 3 hours", range_minutes: "Last 10 minutes",
    last_minutes: "(last 10 minutes)", last_hours: "(last 3 hours)",
    updated: "updated", ago: "ago", never: "never", none: "none",
    open_alerts: "open", no_data: "waiting for data…", unreachable: "unreachable",
    broker_error: "Cannot read the broker: ", caught_up: "caught up",
    st_raised: "raised", st_acknowledged: "acknowledged", st_escalated: "escalated", st_closed: "closed",
    groups_ok: "groups OK", of: "of", letter_headers: "Headers", letter_body: "Body",
    letter_body_note: "bytes, not shown (may hold personal data)", schema: "schema",
    sign_in_title: "Sign in as an operator", token_label: "Operator token", sign_in: "Sign in",
    sign_out: "Sign out", unauthorized: "Unknown or expired token.",
    forbidden: "This token does not have the operator role.", too_many: "Too many requests; retry later.",
    groups_unlisted: "This broker does not list its consumer groups (the embedded broker of `lintas up`): shown are Lintas's own subscribers and the groups named below, once they commit offsets.",
    named_waiting: "Named, no committed offsets yet", name_group_label: "Watch another consumer group by name",
    name_group: "Watch", named_ok: "Watching:", src_named: "named", src_broker: "from the broker",
  },
};
const COLORS = ["#58a6ff", "#3fb950", "#d29922", "#f778ba", "#a371f7", "#39c5cf", "#f0883e", "#8b949e", "#ff7b72", "#7ee787"];

const TOKEN_KEY = "lintas.ops.token";
let lang = localStorage.getItem("lintas.lang") || "id";
let range = "minutes";
let last = null;

const t = (key) => TEXT[lang][key] || TEXT.id[key] || key;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

function number(n) {
  return new Intl.NumberFormat(lang === "id" ? "id-ID" : "en-GB", { maximumFractionDigits: n < 10 ? 1 : 0 }).format(n);
}

function age(seconds) {
  if (seconds == null) return t("never");
  const s = Math.max(0, Math.round(seconds));
  const unit = lang === "id" ? { s: "dtk", m: "mnt", h: "jam", d: "hari" } : { s: "s", m: "min", h: "h", d: "d" };
  const text = s < 60 ? `${s} ${unit.s}` : s < 3600 ? `${Math.floor(s / 60)} ${unit.m}` : s < 86400 ? `${Math.floor(s / 3600)} ${unit.h}` : `${Math.floor(s / 86400)} ${unit.d}`;
  return `${text} ${t("ago")}`;
}

function applyLanguage() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
  document.title = t("title");
  const toggle = document.getElementById("lang-toggle");
  toggle.textContent = lang === "id" ? "English" : "Bahasa Indonesia";
  toggle.lang = lang === "id" ? "en" : "id";
  document.getElementById("range-toggle").textContent = t(range === "minutes" ? "range_hours" : "range_minutes");
  document.getElementById("range-label").textContent = t(range === "minutes" ? "last_minutes" : "last_hours");
  if (last) render(last);
}

// A line chart of the `prefix` series of one resolution: the busiest `limit` series drawn,
// the rest summed as "other".
function chart(container, rates, prefix, limit) {
  container.replaceChildren();
  if (!rates) { container.append(el("p", { class: "muted" }, t("no_data"))); return; }
  let series = Object.entries(rates.series)
    .filter(([name]) => name.startsWith(prefix))
    .map(([name, values]) => [name.slice(prefix.length), values]);
  series.sort((a, b) => b[1].reduce((x, y) => x + y, 0) - a[1].reduce((x, y) => x + y, 0));
  if (series.length > limit) {
    const rest = series.slice(limit - 1);
    const other = rest[0][1].map((_, i) => rest.reduce((sum, [, v]) => sum + v[i], 0));
    series = series.slice(0, limit - 1).concat([["…", other]]);
  }
  const width = 600, height = 220, left = 44, bottom = 20, top = 8;
  const points = series.length ? series[0][1].length : 0;
  const max = Math.max(1, ...series.flatMap(([, v]) => v));
  const x = (i) => left + (i * (width - left - 4)) / Math.max(1, points - 1);
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const plot = svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img" });
  for (const frac of [0, 0.5, 1]) {
    const v = max * frac;
    plot.append(svg("line", { class: "axis", x1: left, x2: width, y1: y(v), y2: y(v) }));
    const label = svg("text", { x: 2, y: y(v) + 4 });
    label.textContent = number(v);
    plot.append(label);
  }
  const span = rates.bucket_seconds * points;
  const start = svg("text", { x: left, y: height - 4 });
  start.textContent = `-${span >= 3600 ? span / 3600 + (lang === "id" ? " jam" : " h") : span / 60 + (lang === "id" ? " mnt" : " min")}`;
  const end = svg("text", { x: width - 40, y: height - 4 });
  end.textContent = lang === "id" ? "kini" : "now";
  plot.append(start, end);
  const legend = el("div", { class: "legend-items" });
  series.forEach(([name, values], n) => {
    const color = COLORS[n % COLORS.length];
    plot.append(svg("polyline", {
      stroke: color, "data-series": name,
      points: values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" "),
    }));
    const now = values[values.length - 1] || 0;
    legend.append(el("span", { "data-series": name }, el("span", { class: "swatch", style: `background:${color}` }), `${name} ${number(now)}/s`));
  });
  container.append(plot, legend);
}

function currentRate(rates) {
  if (!rates) return 0;
  return Object.entries(rates.series).filter(([n]) => n.startsWith("topic:"))
    .reduce((sum, [, v]) => sum + (v[v.length - 1] || 0), 0);
}

function badge(status) { return el("span", { class: `badge ${status}` }, status); }

function renderGroups(groups) {
  const body = document.querySelector("#groups tbody");
  body.replaceChildren(...groups.map((g) => {
    const max = Math.max(1, ...g.partitions.map((p) => p.lag));
    const bars = el("div", { class: "bars", title: g.partitions.map((p) => `${p.topic}[${p.partition}]: ${p.lag}`).join("\n") },
      ...g.partitions.map((p) => el("span", { class: p.status === "OK" ? "" : "hot", style: `height:${Math.max(4, (100 * p.lag) / max)}%` })));
    const source = g.source && g.source !== "subscriber" ? el("span", { class: "muted" }, ` (${t(`src_${g.source}`)})`) : "";
    return el("tr", { "data-group": g.group, "data-source": g.source || "" },
      el("td", {}, g.group, source),
      el("td", { class: "status" }, badge(g.status)),
      el("td", { class: "lag" }, number(g.lag)),
      el("td", {}, bars),
      el("td", { class: "progress" }, g.lag === 0 ? t("caught_up") : age(g.progress_age_seconds)),
      el("td", {}, g.members == null ? "?" : String(g.members)));
  }));
}

// On a broker that does not list its groups the page says what it cannot show, and which
// named groups have not committed yet.
function renderDiscovery(discovery, groups) {
  const note = document.getElementById("groups-unlisted");
  note.hidden = discovery.broker_lists_groups !== false;
  note.textContent = note.hidden ? "" : t("groups_unlisted");
  const shown = new Set(groups.map((g) => g.group));
  const waiting = (discovery.named || []).filter((n) => !shown.has(n));
  const line = document.getElementById("groups-waiting");
  line.hidden = waiting.length === 0;
  line.textContent = waiting.length ? `${t("named_waiting")}: ${waiting.join(", ")}` : "";
}

// Call the API with the operator's token (GET unless `init` says otherwise); a 401 or 403
// signs out with the reason.
async function api(url, init) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}`, ...((init && init.headers) || {}) };
  const response = await fetch(url, { cache: "no-store", ...(init || {}), headers });
  if (response.status === 401 || response.status === 403) signOut(t(response.status === 401 ? "unauthorized" : "forbidden"));
  return response;
}

async function showDeadLetter(d) {
  const panel = document.getElementById("dead-letter-detail");
  panel.hidden = false;
  panel.replaceChildren(el("p", { class: "muted" }, "…"));
  const url = `/ops/api/dead-letters/${encodeURIComponent(d.topic)}/${d.partition}/${d.offset}`;
  const response = await api(url);
  const body = await response.json();
  if (!response.ok) { panel.replaceChildren(el("p", {}, response.status === 429 ? t("too_many") : body.error || response.status)); return; }
  const list = el("dl", {});
  for (const [k, v] of body.headers) list.append(el("dt", {}, k), el("dd", {}, v));
  panel.replaceChildren(
    el("h3", {}, `${d.topic} [${d.partition}] @ ${d.offset}`),
    el("h3", {}, t("letter_headers")), list,
    el("p", {}, `${t("letter_body")}: ${body.value_bytes} ${t("letter_body_note")}${body.schema_id != null ? `; ${t("schema")} ${body.schema_id}` : ""}`),
    el("button", { type: "button", onclick: () => { panel.hidden = true; } }, t("close")));
}

function renderDeadLetters(dl, now) {
  document.querySelector("#dead-letter-counts tbody").replaceChildren(
    ...(dl.topics.length ? dl.topics.map((c) => el("tr", { "data-dlq": c.group }, el("td", {}, c.group), el("td", { class: "count" }, number(c.count))))
      : [el("tr", {}, el("td", { colspan: 2, class: "muted" }, t("none")))]));
  document.querySelector("#dead-letters tbody").replaceChildren(...dl.newest.slice(0, 10).map((d) =>
    el("tr", {},
      el("td", {}, d.timestamp_ms ? age((now - d.timestamp_ms) / 1000) : "?"),
      el("td", {}, d.group),
      el("td", { class: "reason" }, `${d.class || "?"}: ${d.reason || ""}`),
      el("td", {}, el("button", { type: "button", onclick: () => showDeadLetter(d) }, t("view"))))));
}

function renderAlerts(alerts, now) {
  document.getElementById("alerts-open").textContent = `· ${number(alerts.open)} ${t("open_alerts")}`;
  document.querySelector("#alerts tbody").replaceChildren(...(alerts.newest.length ? alerts.newest.slice(0, 15).map((a) =>
    el("tr", { "data-alert": a.alert_id },
      el("td", {}, a.rule), el("td", {}, a.owner),
      el("td", { class: `severity-${a.severity}` }, a.severity),
      el("td", {}, age((now - a.raised_at_ms) / 1000)),
      el("td", {}, t(`st_${a.status}`)),
      el("td", {}, (a.summaries && a.summaries[lang]) || a.summary)))
    : [el("tr", {}, el("td", { colspan: 6, class: "muted" }, t("none")))]));
}

function renderServices(services) {
  document.getElementById("services").replaceChildren(...services.map((s) => {
    const parts = Object.entries(s.parts).filter(([, v]) => v !== "ok");
    return el("div", { class: "card", "data-service": s.name },
      el("strong", {}, s.name), " ",
      el("span", { class: `badge ${s.ready ? "ready" : "not-ready"}` }, t(s.ready ? "ready" : "not_ready")),
      el("div", { class: "muted" }, `${Object.keys(s.parts).length - parts.length}/${Object.keys(s.parts).length} ok`),
      el("ul", {}, ...parts.map(([k, v]) => el("li", {}, `${k}: ${v}`)),
        ...(s.error ? [el("li", {}, `${t("unreachable")}: ${s.error}`)] : [])));
  }));
}

function render(snap) {
  const rates = snap.throughput[range];
  document.getElementById("total-rate").textContent = number(currentRate(snap.throughput.minutes));
  document.getElementById("events-seen").textContent = number(snap.events_seen);
  chart(document.getElementById("chart-topics"), rates, "topic:", 8);
  chart(document.getElementById("chart-types"), rates, "type:", 8);
  renderGroups(snap.groups);
  renderDiscovery(snap.group_discovery || {}, snap.groups);
  renderDeadLetters(snap.dead_letters, snap.generated_at_ms);
  renderAlerts(snap.alerts, snap.generated_at_ms);
  renderServices(snap.services);
  const ok = snap.groups.filter((g) => g.status === "OK").length;
  const ready = snap.services.filter((s) => s.ready).length;
  document.getElementById("summary").replaceChildren(
    el("span", { class: `badge ${ok === snap.groups.length ? "OK" : "STALL"}` }, `${ok} ${t("of")} ${snap.groups.length} ${t("groups_ok")}`), " ",
    el("span", { class: `badge ${ready === snap.services.length ? "ready" : "not-ready"}` }, `${ready}/${snap.services.length} ${t("ready")}`));
  const banner = document.getElementById("broker-error");
  banner.hidden = !snap.broker_error;
  banner.textContent = snap.broker_error ? t("broker_error") + snap.broker_error : "";
  document.getElementById("updated").textContent = `${t("updated")} ${new Date(snap.generated_at_ms).toLocaleTimeString(lang === "id" ? "id-ID" : "en-GB")}`;
}

async function refresh() {
  if (!sessionStorage.getItem(TOKEN_KEY)) return;
  try {
    const response = await api("/ops/api/snapshot");
    if (response.ok) { last = await response.json(); render(last); }
  } catch (e) {
    document.getElementById("updated").textContent = String(e);
  }
}

function showSignedIn(signedIn) {
  document.getElementById("sign-in").hidden = signedIn;
  document.getElementById("dashboard").hidden = !signedIn;
  document.getElementById("sign-out").hidden = !signedIn;
  if (signedIn) document.getElementById("sign-in-error").textContent = "";
  else document.getElementById("token").focus();
}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  last = null;
  document.getElementById("sign-in-error").textContent = reason || "";
  showSignedIn(false);
}

document.getElementById("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("token");
  sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  input.value = "";
  showSignedIn(true);
  refresh();
});
document.getElementById("sign-out").addEventListener("click", () => signOut(""));
document.getElementById("name-group").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("group-name");
  const result = document.getElementById("name-group-result");
  const response = await api("/ops/api/groups", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ group: input.value.trim() }),
  });
  const body = await response.json().catch(() => ({}));
  result.textContent = response.ok ? `${t("named_ok")} ${body.group}` : body.error || String(response.status);
  if (response.ok) { input.value = ""; refresh(); }
});

document.getElementById("lang-toggle").addEventListener("click", () => {
  lang = lang === "id" ? "en" : "id";
  localStorage.setItem("lintas.lang", lang);
  applyLanguage();
});
document.getElementById("range-toggle").addEventListener("click", () => {
  range = range === "minutes" ? "hours" : "minutes";
  applyLanguage();
});
applyLanguage();
showSignedIn(Boolean(sessionStorage.getItem(TOKEN_KEY)));
refresh();
setInterval(refresh, 2000);
