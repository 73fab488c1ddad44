// The tablet gate page: camera (zxing-wasm, served from /vendor/) and keyboard-wedge reads go to the
// redeem endpoint; the verdict fills the screen for a moment, then the page is ready for the next ticket.
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
      details.append(...detail(texts.seat, ticket.seat || texts.general_admission));
      details.append(...detail(texts.class, ticket.class));
      if (ticket.holder) details.append(...detail(texts.holder, `${ticket.holder.name} · ${ticket.holder.id_masked}`));
      details.append(...detail(texts.session, ticket.session));
      const number = ticket.short_code || "";
      details.append(...detail(texts.ticket, number ? `${number.slice(0, 3)} ${number.slice(3, 7)} ${number.slice(7)}` : `#${ticket.id}`));
    }
    if (verdict.first_entry) {
      details.append(...detail(texts.first_entry, `${localTime(verdict.first_entry.at)} · ${verdict.first_entry.gate}`));
    }
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
  async function post(body) {
    return fetch(root.dataset.api, {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrftoken": csrf, accept: "application/json" },
      body: JSON.stringify(body),
    });
  }

  async function redeem(code) {
    const scanDirection = direction;
    const body = { code, gate: root.dataset.gate, nonce: crypto.randomUUID(), direction: scanDirection };
    if (root.dataset.session) body.session_id = Number(root.dataset.session);
    let response;
    try {
      response = await post(body);
    } catch (_) {
      try {
        response = await post(body); // the same nonce: if the first one arrived, this answers the same
      } catch (_) {
        show({ status: "error", reason: texts.no_answer }, scanDirection);
        return;
      }
    }
    scans += 1;
    document.getElementById("gate-count").textContent = String(scans);
    if (response.ok) {
      show(await response.json(), scanDirection);
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
})();
