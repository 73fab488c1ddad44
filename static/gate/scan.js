// The tablet gate page: camera (zxing-wasm, served from /vendor/) and keyboard-wedge reads go to the
// redeem endpoint; the verdict fills the screen for a moment, then the page is ready for the next ticket.
// Offline mode: the gate's offline cache is kept in localStorage and brought up to date with the numbered
// revocation delta on every sync; when the server does not answer, a scan is judged from the cache (the
// signature with the synced public keys, the session, revoked and unpaid tickets, entries), journaled and
// uploaded when the server answers again. A revocation list older than data-stale-ms shows the stale notice.
(() => {
  "use strict";
  const root = document.getElementById("gate");
  if (!root) return;
  const texts = JSON.parse(document.getElementById("gate-texts").textContent);
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
  const holdMs = Number(root.dataset.holdMs) || 2500;
  const GONE_MS = 1000; // the same code must be out of view this long before it counts again
  const SCAN_EVERY_MS = 120;
  const MAX_WIDTH = 960; // frames are scaled down to this width before decoding

  const overlay = document.getElementById("gate-verdict");
  const wedge = document.getElementById("gate-code");
  const cameraState = document.getElementById("gate-camera-state");
  const video = document.getElementById("gate-video");
  let direction = "in";
  let showing = false; // a verdict is on screen
  let hideTimer = null;
  let lastCamera = { code: null, seenAt: 0 }; // the last code the camera submitted and when it was last in view
  let queue = Promise.resolve();
  let scans = 0;

  // ---- verdict screen ----------------------------------------------------------------------------
  const TIMEZONE = root.dataset.timezone || "Asia/Shanghai"; // the venue's zone: times read as its clocks do
  function localTime(iso) {
    // sv-SE writes "2026-11-27 04:55", the way the reasons write times
    return new Intl.DateTimeFormat("sv-SE", {
      timeZone: TIMEZONE, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
    }).format(new Date(iso));
  }

  function tone(verdict) {
    if (verdict.status === "ok") return verdict.attention ? "amber" : "green";
    return verdict.status === "error" ? "amber" : "red";
  }

  function detail(term, value) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    return [dt, dd];
  }

  function beep(good) {
    try {
      const audio = new (window.AudioContext || window.webkitAudioContext)();
      const notes = good ? [880] : [330, 0, 330];
      notes.forEach((freq, i) => {
        if (!freq) return;
        const osc = audio.createOscillator();
        osc.frequency.value = freq;
        osc.connect(audio.destination);
        osc.start(audio.currentTime + i * 0.12);
        osc.stop(audio.currentTime + i * 0.12 + 0.1);
      });
      setTimeout(() => audio.close(), 800);
    } catch (_) { /* no audio output: the screen still says it */ }
  }

  function show(verdict, scanDirection) {
    const statuses = texts.statuses;
    const key = verdict.status === "ok" && scanDirection === "out" ? "ok_out" : verdict.status;
    overlay.dataset.status = verdict.status;
    overlay.dataset.tone = tone(verdict);
    document.getElementById("verdict-headline").textContent = statuses[key] || verdict.status;
    const attention = document.getElementById("verdict-attention");
    attention.hidden = !verdict.attention;
    attention.textContent = verdict.attention ? verdict.attention_text || texts.check_id : "";
    document.getElementById("verdict-reason").textContent = verdict.reason || "";
    const details = document.getElementById("verdict-details");
    details.replaceChildren();
    const ticket = verdict.ticket;
    if (ticket) {
      if (!verdict.offline) { // offline, the cache knows the ticket's number and holder only
        details.append(...detail(texts.seat, ticket.seat || texts.general_admission));
        details.append(...detail(texts.class, ticket.class));
      }
      if (ticket.holder) details.append(...detail(texts.holder, `${ticket.holder.name} · ${ticket.holder.id_masked}`));
      if (!verdict.offline) details.append(...detail(texts.session, ticket.session));
      const number = ticket.short_code || "";
      details.append(...detail(texts.ticket, number ? `${number.slice(0, 3)} ${number.slice(3, 7)} ${number.slice(7)}` : `#${ticket.id}`));
    }
    if (verdict.first_entry) {
      details.append(...detail(texts.first_entry, `${localTime(verdict.first_entry.at)} · ${verdict.first_entry.gate}`));
    }
    const offlineNote = document.getElementById("verdict-offline");
    offlineNote.hidden = !verdict.offline;
    offlineNote.textContent = verdict.offline ? texts.offline_note : "";
    document.getElementById("verdict-tap").textContent = texts.tap;
    overlay.hidden = false;
    showing = true;
    beep(verdict.status === "ok");
    clearTimeout(hideTimer);
    hideTimer = setTimeout(ready, holdMs);
  }

  function ready() {
    clearTimeout(hideTimer);
    overlay.hidden = true;
    showing = false;
    wedge.focus();
  }
  overlay.addEventListener("click", ready);

  // ---- redeem ------------------------------------------------------------------------------------
  const ANSWER_MS = 3000; // a server that has not answered by then counts as out of reach

  const RETRY_OFFLINE_MS = 800; // while known to be offline: one short try, so a queue at the gate keeps moving

  async function post(body, url = root.dataset.api, answerMs = ANSWER_MS) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrftoken": csrf, accept: "application/json" },
      body: JSON.stringify(body), signal: AbortSignal.timeout(answerMs),
    });
  }

  async function redeem(code) {
    const scanDirection = direction;
    const body = { code, gate: root.dataset.gate, nonce: crypto.randomUUID(), direction: scanDirection };
    if (root.dataset.session) body.session_id = Number(root.dataset.session);
    const tries = root.dataset.online === "0" ? [RETRY_OFFLINE_MS] : [ANSWER_MS, ANSWER_MS];
    let response;
    try {
      response = await post(body, root.dataset.api, tries[0]);
    } catch (_) {
      try {
        if (tries.length < 2) throw new Error("offline"); // judged offline at once; the sync loop finds the server
        response = await post(body, root.dataset.api, tries[1]); // the same nonce: if the first arrived, the same answer
      } catch (_) {
        setOnline(false);
        const verdict = await offline.judge(body);
        if (verdict) count();
        show(verdict || { status: "error", reason: texts.no_answer }, scanDirection);
        return;
      }
    }
    count();
    if (response.ok) {
      const verdict = await response.json();
      if (verdict.status === "ok" && verdict.ticket) offline.remember(verdict.ticket.id, scanDirection, new Date().toISOString());
      show(verdict, scanDirection);
      return;
    }
    if (response.status === 401) {
      show({ status: "error", reason: texts.signed_out }, scanDirection);
      return;
    }
    let problem = {};
    try { problem = await response.json(); } catch (_) { /* not JSON */ }
    const reason = texts.refused.replace("{status}", response.status).replace("{detail}", problem.detail || "");
    show({ status: "error", reason }, scanDirection);
  }

  function count() {
    scans += 1;
    document.getElementById("gate-count").textContent = String(scans);
  }

  function submit(code) {
    queue = queue.then(() => redeem(code));
    return queue;
  }

  // ---- keyboard-wedge scanner: an always-focused input that submits on Enter -------------------
  document.getElementById("gate-wedge").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = wedge.value.trim();
    wedge.value = "";
    if (!code) return;
    if (showing) ready();
    submit(code);
  });
  wedge.addEventListener("blur", () => {
    setTimeout(() => {
      const active = document.activeElement;
      if (!active || active === document.body || active === overlay) wedge.focus();
    }, 200);
  });
  document.getElementById("gate-type").addEventListener("click", () => {
    wedge.setAttribute("inputmode", wedge.getAttribute("inputmode") === "none" ? "numeric" : "none");
    wedge.focus();
  });
  wedge.focus();

  root.querySelectorAll(".gate__direction button").forEach((button) => {
    button.addEventListener("click", () => {
      direction = button.dataset.direction;
      root.dataset.direction = direction;
      root.querySelectorAll(".gate__direction button").forEach((b) => {
        const on = b === button;
        b.setAttribute("aria-pressed", String(on));
        b.classList.toggle("secondary", !on);
      });
      wedge.focus();
    });
  });

  // ---- camera ------------------------------------------------------------------------------------
  // A code held in front of the camera counts once: the same code is submitted again only after it
  // was out of view for GONE_MS, and only when no verdict is on screen.
  function cameraRead(code) {
    const now = performance.now();
    if (code === lastCamera.code) {
      const gone = now - lastCamera.seenAt > GONE_MS;
      if (!gone) {
        lastCamera.seenAt = now;
        return;
      }
      if (showing) return; // it came back while a verdict shows: count it once the screen is ready
    } else if (showing) {
      return;
    }
    lastCamera = { code, seenAt: now };
    submit(code);
  }

  async function startDecoder() {
    ZXingWASM.prepareZXingModule({
      overrides: {
        locateFile: (path, prefix) => (path.endsWith(".wasm") ? root.dataset.wasm : prefix + path),
      },
      fireImmediately: true,
    });
    // A blank frame: resolves once the wasm module is compiled, so failures show up here.
    await ZXingWASM.readBarcodes(new ImageData(8, 8), { formats: ["QRCode"] });
  }

  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraState.textContent = texts.camera_off;
      return;
    }
    try {
      await startDecoder();
    } catch (_) {
      cameraState.textContent = texts.decoder_failed;
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false,
      });
    } catch (error) {
      cameraState.textContent = error && error.name === "NotAllowedError" ? texts.camera_denied : texts.camera_off;
      return;
    }
    video.srcObject = stream;
    await video.play().catch(() => {});
    cameraState.textContent = texts.camera_on;
    root.dataset.camera = "on";
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    const tick = async () => {
      if (video.videoWidth) {
        const scale = Math.min(1, MAX_WIDTH / video.videoWidth);
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        const frame = context.getImageData(0, 0, canvas.width, canvas.height);
        try {
          const results = await ZXingWASM.readBarcodes(frame, { formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 1 });
          const hit = results.find((r) => r.isValid && r.text);
          if (hit) cameraRead(hit.text);
        } catch (_) { /* an undecodable frame: try the next one */ }
      }
      setTimeout(tick, SCAN_EVERY_MS);
    };
    tick();
  }
  startCamera();

  // ---- offline mode ------------------------------------------------------------------------------
  const gate = root.dataset.gate;
  const CACHE_KEY = `gate-cache:${gate}`;
  const JOURNAL_KEY = `gate-journal:${gate}`;
  const FULL_SYNC_MS = 10 * 60 * 1000; // a whole snapshot now and then (new tickets, entries elsewhere)
  const syncMs = Number(root.dataset.syncMs) || 30000;
  const staleMs = Number(root.dataset.staleMs) || 300000;
  const linkState = document.getElementById("gate-link");
  const staleNotice = document.getElementById("gate-stale");

  function load(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch (_) { return fallback; }
  }
  function save(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (_) { /* storage full: kept in memory */ }
  }

  const offline = {
    cache: load(CACHE_KEY, null), // the snapshot, kept up to date by the deltas
    journal: load(JOURNAL_KEY, []), // scans judged offline, not uploaded yet
    keys: {},

    async importKeys() {
      this.keys = {};
      for (const [id, b64] of Object.entries(this.cache.public_keys)) {
        const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        this.keys[id] = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
      }
    },

    merge(delta) {
      // the camera client's rule (scanner/offline.py add_revocations): revoked in, restored out
      const revoked = new Set(this.cache.revoked);
      delta.revoked.forEach((t) => revoked.add(t));
      (delta.restored || []).forEach((t) => revoked.delete(t));
      const gone = new Set(delta.revoked);
      this.cache.revoked = [...revoked];
      this.cache.unpaid = this.cache.unpaid.filter((t) => !gone.has(t));
      this.cache.revocation_seq = Math.max(this.cache.revocation_seq || 0, delta.upto);
      this.cache.revocations_at = new Date().toISOString();
    },

    // The claim of a typed short number or a signed QR code (db/sales/tickets/codes.py), or null.
    async claim(code) {
      const digits = code.replace(/[\s\-·.]/g, "");
      if (/^[0-9]{11}$/.test(digits)) {
        const known = (this.cache.short_codes || {})[digits];
        return known ? { ticket: known[0], session: known[1], concession: Boolean(known[2]) } : null;
      }
      const text = code.trim().toUpperCase();
      if (text.length !== 119 || !/^[A-Z2-7]+$/.test(text)) return null;
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
      const bytes = new Uint8Array(74);
      let bits = 0, value = 0, n = 0;
      for (const ch of text) {
        value = (value << 5) | alphabet.indexOf(ch);
        bits += 5;
        if (bits >= 8) {
          bits -= 8;
          if (n < 74) bytes[n] = (value >> bits) & 0xff;
          n += 1;
        }
        value &= 0xff;
      }
      if ((value & ((1 << bits) - 1)) !== 0) return null; // non-canonical spare bits
      const body = bytes.slice(0, 10);
      if (body[0] >> 4 !== 1) return null;
      const key = this.keys[String(body[0] & 0x0f)];
      if (!key) return null;
      const ok = await crypto.subtle.verify({ name: "Ed25519" }, key, bytes.slice(10), body).catch(() => false);
      if (!ok) return null;
      const view = new DataView(body.buffer);
      return { ticket: view.getUint32(1), session: view.getUint32(5), concession: Boolean(body[9] & 1) };
    },

    // db/gate/rules.py decide(), for what the cache knows.
    decide(claim, direction) {
      const reject = (status, reason, params = {}) => ({ status, reason_code: reason, params });
      if (!claim) return reject("invalid", "unreadable");
      if (this.cache.revoked.includes(claim.ticket)) return reject("revoked", "revoked");
      if (this.cache.unpaid.includes(claim.ticket)) return reject("unpaid", "unpaid");
      const chosen = root.dataset.session ? Number(root.dataset.session) : null;
      if (chosen !== null && chosen !== claim.session) return reject("wrong_session", "scanner_session");
      const session = this.cache.sessions.find((s) => s.id === claim.session);
      if (!session) return reject("wrong_gate", "other_gate");
      const entry = this.presence(claim.ticket);
      if (direction === "out") {
        return entry && entry.inside ? { status: "ok", reason_code: "goodbye", params: {} } : reject("invalid", "not_inside");
      }
      const now = new Date();
      if (now < new Date(session.opens_at)) return reject("invalid_time", "too_early", { opens_at: localTime(session.opens_at) });
      if (now > new Date(session.closes_at)) return reject("invalid_time", "too_late", { closes_at: localTime(session.closes_at) });
      if (entry) {
        const params = { gate: entry.first_gate, at: localTime(entry.first_entry_at) };
        if (entry.inside) return reject("already_redeemed", "already_inside", params);
        if (!session.reentry_allowed) return reject("already_redeemed", "no_reentry", params);
      }
      return { status: "ok", reason_code: entry ? "welcome_back" : "welcome", params: {}, attention: claim.concession };
    },

    // An entry or exit this tablet saw (online, or offline and since uploaded) stays known until the next full
    // snapshot brings it, so that a ticket let in here is not welcomed again if the network drops before then.
    remember(ticket, scanDirection, at) {
      if (!this.cache || ticket == null) return;
      let entry = this.cache.admitted.find((a) => a.ticket === ticket);
      if (scanDirection === "in") {
        if (!entry) this.cache.admitted.push((entry = { ticket, inside: true, first_entry_at: at, first_gate: gate }));
        else entry.inside = true;
      } else if (entry) entry.inside = false;
      save(CACHE_KEY, this.cache);
    },

    // The ticket's entry as synced, then as this tablet's own offline journal moved it.
    presence(ticket) {
      const synced = this.cache.admitted.find((a) => a.ticket === ticket);
      let entry = synced ? { ...synced } : null;
      for (const scan of this.journal) {
        if (scan.ticket !== ticket || scan.status !== "ok") continue;
        if (scan.direction === "in") entry = { inside: true, first_entry_at: entry ? entry.first_entry_at : scan.at, first_gate: entry ? entry.first_gate : gate };
        else if (entry) entry.inside = false;
      }
      return entry;
    },

    async judge(body) {
      if (!this.cache) return null;
      const claim = await this.claim(body.code);
      const decision = this.decide(claim, body.direction);
      let reason = texts.reasons[decision.reason_code] || "";
      for (const [name, value] of Object.entries(decision.params)) reason = reason.replace(`{${name}}`, value);
      this.journal.push({
        nonce: body.nonce, code: body.code, direction: body.direction, at: new Date().toISOString(),
        status: decision.status, reason_code: decision.reason_code, ticket: claim ? claim.ticket : null,
      });
      save(JOURNAL_KEY, this.journal);
      return {
        status: decision.status, reason, offline: true, attention: Boolean(decision.attention),
        ticket: claim ? { id: claim.ticket, holder: (this.cache.holders || {})[claim.ticket] } : null,
      };
    },
  };

  function setOnline(on) {
    root.dataset.online = on ? "1" : "0";
    const at = offline.cache ? localTime(offline.cache.revocations_at || offline.cache.synced_at) : "";
    linkState.textContent = !offline.cache ? texts.never_synced : (on ? texts.online : texts.offline).replace("{time}", at);
  }

  function checkStale() {
    const at = offline.cache && (offline.cache.revocations_at || offline.cache.synced_at);
    const stale = !at || Date.now() - new Date(at).getTime() > staleMs;
    staleNotice.hidden = !stale;
    root.dataset.stale = stale ? "1" : "0";
  }

  async function get(params) {
    const answer = await fetch(`${root.dataset.syncApi}?${new URLSearchParams({ gate, ...params })}`, {
      credentials: "same-origin", headers: { accept: "application/json" }, signal: AbortSignal.timeout(ANSWER_MS * 3),
    });
    if (!answer.ok) throw new Error(`sync ${answer.status}`);
    return answer.json();
  }

  async function uploadJournal() {
    if (!offline.journal.length) return;
    const sent = offline.journal.slice();
    const entries = sent.map(({ ticket, ...entry }) => entry);
    const answer = await post({ gate, entries }, root.dataset.journalApi);
    if (!answer.ok) throw new Error(`journal ${answer.status}`);
    offline.journal = offline.journal.slice(sent.length); // keep scans made while it was on its way
    save(JOURNAL_KEY, offline.journal);
    for (const scan of sent) if (scan.status === "ok") offline.remember(scan.ticket, scan.direction, scan.at);
  }

  let lastFull = 0;
  async function sync() {
    try {
      await uploadJournal(); // first: the snapshot then includes this tablet's offline entries
      const full = !offline.cache || Date.now() - lastFull > FULL_SYNC_MS;
      if (full) {
        const fresh = await get({});
        if (offline.cache && fresh.revocation_seq < (offline.cache.revocation_seq || 0)) fresh.revocation_seq = offline.cache.revocation_seq;
        offline.cache = fresh;
        lastFull = Date.now();
      } else {
        offline.merge(await get({ since: String(offline.cache.revocation_seq || 0) }));
      }
      await offline.importKeys();
      save(CACHE_KEY, offline.cache);
      root.dataset.revocationSeq = String(offline.cache.revocation_seq || 0);
      setOnline(true);
    } catch (_) {
      setOnline(false);
    }
    checkStale();
  }

  (async () => {
    if (offline.cache) {
      try { await offline.importKeys(); } catch (_) { offline.cache = null; }
    }
    setOnline(false);
    checkStale();
    await sync();
    setInterval(sync, syncMs);
    setInterval(checkStale, 1000);
  })();
})();
