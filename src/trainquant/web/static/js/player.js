// Our course player: an HTML5 video that tells the LRS what really played, as it happens.
//
// Every statement is posted at once, one after another (the LRS dates our player's statements by when
// they arrive, so the learner's clock plays no part). Between two statements the video played from the
// first's position to the second's at the speed and visibility the first announced (learning/video.py):
// so a statement is sent whenever playback starts, stops, jumps, changes speed or visibility, every
// HEARTBEAT_MS while playing, and when the idle prompt pauses it.
(() => {
  "use strict";
  const root = document.getElementById("player");
  if (!root) return;
  const d = root.dataset;
  const video = root.querySelector("video");
  const note = root.querySelector("[data-testid=player-note]");
  const dialog = root.querySelector("dialog");
  const V = "https://w3id.org/xapi/video/";
  const ADL = "http://adlnet.gov/expapi/verbs/";
  const OURS = "https://trainquant.dev/xapi/";
  const HEARTBEAT_MS = 30000;
  const maxSpeed = parseFloat(d.maxSpeed);
  const noSkipping = d.noSkipping === "true";
  const idleMs = parseFloat(d.idleMs);
  const length = parseFloat(d.length);
  const actor = { objectType: "Agent", name: d.name, account: { homePage: d.home, name: d.account } };
  const headers = { "Content-Type": "application/json", "X-Experience-API-Version": "1.0.3", "X-CSRF-Token": d.csrf };
  const stateUrl = "/xapi/activities/state?" + new URLSearchParams({ activityId: d.activity, agent: JSON.stringify(actor), stateId: "resume" });

  let hidden = document.visibilityState === "hidden";
  let furthest = 0; // the furthest point reached by playing, never by seeking
  let lastTime = 0; // the position at the last timeupdate: where a seek jumps from
  let lastInput = Date.now();
  let idlePause = false; // the next pause is the idle prompt's
  let resuming = false; // the jump to the resume position is not the learner's seek
  let queue = Promise.resolve();

  const text = (key) => (root.querySelector(`template[data-text="${key}"]`) || {}).innerHTML || "";
  const show = (message) => { note.textContent = message; };

  function uuid() {
    // crypto.randomUUID needs a secure context; a school's intranet is often plain http.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function send(verb, result) {
    const statement = {
      id: uuid(),
      actor,
      verb: { id: verb, display: { "en-US": verb.split("/").pop() } },
      object: { objectType: "Activity", id: d.activity,
        definition: { type: V + "activity-type/video", name: { "zh-CN": d.title } } },
      result: { extensions: result || {} },
      context: {
        registration: d.session,
        contextActivities: { category: [{ id: "https://w3id.org/xapi/video" }] },
        extensions: {
          [V + "extensions/session-id"]: d.session,
          [V + "extensions/length"]: length,
          [V + "extensions/speed"]: `${video.playbackRate}x`,
          [V + "extensions/completion-threshold"]: 1,
          [OURS + "extensions/visibility"]: hidden ? "hidden" : "visible",
        },
      },
      timestamp: new Date().toISOString(),
    };
    const body = JSON.stringify(statement);
    // One after another, and kept alive past the page's end (the terminated statement).
    queue = queue.then(() => fetch("/xapi/statements", { method: "POST", headers, body, keepalive: true })).catch(() => {});
    return queue;
  }

  const at = () => Math.round(video.currentTime * 1000) / 1000;

  function saveState() {
    const body = JSON.stringify({ position: at(), furthest });
    queue = queue.then(() => fetch(stateUrl, { method: "PUT", headers, body, keepalive: true })).catch(() => {});
  }

  async function resume() {
    try {
      const r = await fetch(stateUrl, { headers });
      if (!r.ok) return;
      const state = await r.json();
      furthest = Math.max(0, Math.min(length, Number(state.furthest) || 0));
      const position = Math.max(0, Math.min(length, Number(state.position) || 0));
      if (position > 0 && position < length - 1) {
        resuming = true;
        video.currentTime = position;
      }
    } catch (e) { /* no resume position: start at the beginning */ }
  }

  video.addEventListener("loadedmetadata", resume, { once: true });

  video.addEventListener("play", () => {
    lastInput = Date.now();
    send(V + "verbs/played", { [V + "extensions/time"]: at() });
  });

  video.addEventListener("pause", () => {
    if (video.ended) return; // "ended" reports it
    const result = { [V + "extensions/time"]: at() };
    if (idlePause) {
      result[OURS + "extensions/idle-for"] = Math.round(Date.now() - lastInput) / 1000;
      idlePause = false;
    }
    send(V + "verbs/paused", result);
    saveState();
  });

  video.addEventListener("ended", () => {
    send(V + "verbs/paused", { [V + "extensions/time"]: at() });
    send(ADL + "completed", { [V + "extensions/time"]: at() });
    saveState();
  });

  video.addEventListener("timeupdate", () => {
    if (video.seeking) return;
    const now = video.currentTime;
    // Playing moves forward by at most a few ticks' worth; a bigger step is a seek, not watching.
    if (!video.paused && now >= lastTime && now - lastTime < 2 * maxSpeed) furthest = Math.max(furthest, now);
    lastTime = now;
  });

  video.addEventListener("seeking", () => {
    const to = video.currentTime;
    if (resuming) {
      resuming = false;
    } else if (noSkipping && to > furthest + 0.5) {
      show(text("no-skip"));
      video.currentTime = furthest; // raises another "seeking", to a place already watched
      return;
    }
    send(V + "verbs/seeked", { [V + "extensions/time-from"]: Math.round(lastTime * 1000) / 1000, [V + "extensions/time-to"]: Math.round(to * 1000) / 1000 });
    lastTime = to;
  });

  video.addEventListener("ratechange", () => {
    if (video.playbackRate > maxSpeed) {
      show(text("speed"));
      video.playbackRate = maxSpeed; // raises another "ratechange"
      return;
    }
    if (!video.paused) send(ADL + "interacted", { [V + "extensions/time"]: at() });
  });

  document.addEventListener("visibilitychange", () => {
    hidden = document.visibilityState === "hidden";
    if (!video.paused) send(ADL + "interacted", { [V + "extensions/time"]: at() });
  });

  for (const kind of ["pointerdown", "pointermove", "keydown", "wheel", "touchstart"]) {
    document.addEventListener(kind, () => { lastInput = Date.now(); }, { passive: true });
  }

  setInterval(() => {
    if (!video.paused && Date.now() - lastInput > idleMs) {
      idlePause = true;
      video.pause();
      if (dialog && !dialog.open) dialog.showModal();
    }
  }, 1000);

  setInterval(() => {
    if (!video.paused) {
      send(OURS + "verbs/heartbeat", { [V + "extensions/time"]: at() });
      saveState();
    }
  }, HEARTBEAT_MS);

  root.querySelector("[data-testid=still-here]").addEventListener("click", () => {
    lastInput = Date.now();
    dialog.close();
    video.play();
  });

  window.addEventListener("pagehide", () => {
    if (!video.paused) send(V + "verbs/paused", { [V + "extensions/time"]: at() });
    send(ADL + "terminated", { [V + "extensions/time"]: at() });
  });

  send(ADL + "initialized", {});
})();
