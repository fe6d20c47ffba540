// Nexam candidate pages: the device check, the start of an exam and the exam page. They talk
// to the services through the gateway's same-origin relay (/app/api/v1/...), which adds the
// access token kept in the session cookie; every write carries the page's CSRF token.
(function () {
  "use strict";

  var RELAY = "/app";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function call(method, path, body, raw) {
    var options = { method: method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf() } };
    if (raw !== undefined) {
      options.body = raw;
      options.headers["Content-Type"] = "application/octet-stream";
    } else if (body !== undefined) {
      options.body = JSON.stringify(body);
      options.headers["Content-Type"] = "application/json";
    }
    return fetch(RELAY + path, options).then(function (response) {
      return response.text().then(function (text) {
        var data = {};
        try { data = text ? JSON.parse(text) : {}; } catch (e) { data = {}; }
        return { status: response.status, ok: response.ok, body: data };
      });
    });
  }

  // "not now" rather than "no": the session stands, the call is tried again later
  function retryLater(answer) { return answer.status === 429 || answer.status >= 500; }

  function text(root, name) { return root.getAttribute("data-text-" + name) || ""; }

  function say(element, message, good) {
    if (!element) { return; }
    element.textContent = message;
    element.classList.toggle("met", good === true);
    element.classList.toggle("unmet", good === false);
  }

  function browserInfo() {
    var data = navigator.userAgentData;
    if (data && data.brands) {
      var known = data.brands.filter(function (b) { return !/Not.?A.?Brand/i.test(b.brand); });
      var pick = known.filter(function (b) { return b.brand !== "Chromium"; })[0] || known[0];
      if (pick) { return { name: pick.brand, version: String(pick.version) }; }
    }
    var ua = navigator.userAgent;
    var patterns = [["Edge", /Edg\/([\d.]+)/], ["Firefox", /Firefox\/([\d.]+)/],
      ["Chrome", /Chrome\/([\d.]+)/], ["Safari", /Version\/([\d.]+).*Safari/]];
    for (var i = 0; i < patterns.length; i++) {
      var found = ua.match(patterns[i][1]);
      if (found) { return { name: patterns[i][0], version: found[1] }; }
    }
    return { name: "unknown", version: "" };
  }

  // --- screen and webcam, shared by the device check and the start page ---------------

  function shareScreen() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia) {
      return Promise.reject(new Error("unsupported"));
    }
    return navigator.mediaDevices.getDisplayMedia({ video: { displaySurface: "monitor" }, audio: false })
      .then(function (stream) {
        var track = stream.getVideoTracks()[0];
        var settings = track ? track.getSettings() : {};
        return { stream: stream, surface: settings.displaySurface || null };
      });
  }

  function startWebcam(preview) {
    return navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false })
      .then(function (stream) {
        var track = stream.getVideoTracks()[0];
        var settings = track ? track.getSettings() : {};
        if (preview) { preview.srcObject = stream; preview.hidden = false; }
        return { stream: stream, live: !!track && track.readyState === "live",
          width: settings.width || null, height: settings.height || null };
      });
  }

  // --- the device check -----------------------------------------------------------------

  function timed(work) {
    var begun = performance.now();
    return work().then(function (result) { return { ms: performance.now() - begun, result: result }; });
  }

  function measureSpeed(run) {
    var size = Math.max(run.transfer_limits.min_bytes, Math.min(run.transfer_limits.max_bytes, 2000000));
    var results = { download_mbps: null, upload_mbps: null, latency_ms: null };
    return timed(function () { return fetch(RELAY + run.latency_url, { credentials: "same-origin" }); })
      .then(function (t) { results.latency_ms = Math.round(t.ms * 10) / 10; })
      .then(function () {
        return timed(function () {
          return fetch(RELAY + run.download_url + "&bytes=" + size, { credentials: "same-origin" })
            .then(function (r) { return r.arrayBuffer(); });
        });
      })
      .then(function (t) { results.download_mbps = (t.result.byteLength * 8) / (t.ms / 1000) / 1e6; })
      .then(function () {
        return timed(function () { return call("POST", run.upload_url, undefined, new Uint8Array(size)); });
      })
      .then(function (t) { results.upload_mbps = (size * 8) / (t.ms / 1000) / 1e6; })
      .catch(function () { return results; })
      .then(function () { return results; });
  }

  function deviceCheck(root) {
    var state = { screen: null, webcam: null, document: false, typed: false, run: null };
    var result = function (name) { return root.querySelector('[data-result="' + name + '"]'); };
    var preview = root.querySelector("[data-preview]");
    var docButton = root.querySelector('[data-step="document"]');
    var runButton = root.querySelector('[data-step="run"]');
    var outcome = root.querySelector("[data-outcome]");
    var failures = root.querySelector("[data-failures]");
    var writing = root.querySelector("[data-writing]");

    var opened = call("POST", "/api/v1/device-checks", {}).then(function (answer) {
      if (!answer.ok) { throw new Error(answer.body.message || "device check"); }
      state.run = answer.body;
      var frame = document.createElement("iframe");
      frame.src = RELAY + state.run.document_url;
      frame.title = docButton.textContent;
      frame.className = "subject";
      frame.addEventListener("load", function () { docButton.disabled = false; });
      root.querySelector("[data-document-slot]").appendChild(frame);
      return state.run;
    });
    opened.catch(function (error) { say(outcome, error.message || text(root, "error"), false); });

    root.querySelector('[data-step="screen"]').addEventListener("click", function () {
      shareScreen().then(function (shared) {
        state.screen = shared.surface;
        say(result("screen"), shared.surface || "?", shared.surface === "monitor");
      }, function (error) { state.screen = null; say(result("screen"), String(error.message || error), false); });
    });
    root.querySelector('[data-step="webcam"]').addEventListener("click", function () {
      startWebcam(preview).then(function (cam) {
        state.webcam = cam;
        say(result("webcam"), cam.width + "×" + cam.height, cam.live);
      }, function (error) { state.webcam = null; say(result("webcam"), String(error.message || error), false); });
    });
    docButton.addEventListener("click", function () {
      state.document = true;
      say(result("document"), "✓", true);
    });
    writing.addEventListener("input", function () { state.typed = writing.value.trim().length > 0; });

    runButton.addEventListener("click", function () {
      runButton.disabled = true;
      failures.textContent = "";
      say(outcome, text(root, "running"));
      var report = {};
      opened.then(function (run) {
        return measureSpeed(run).then(function (speed) {
          report = speed;
          return call("PUT", run.autosave_url, { content: writing.value, revision: 0 });
        }).then(function (saved) {
          say(result("writing"), saved.ok ? "✓" : "✗", saved.ok && state.typed);
          var cam = state.webcam || {};
          report.screen_share = { display_surface: state.screen };
          report.webcam = { live: !!cam.live, width: cam.width || null, height: cam.height || null };
          report.document_displayed = state.document;
          report.writing = { typed: state.typed, autosave_ok: saved.ok };
          report.browser = browserInfo();
          return call("PUT", run.result_url, report);
        });
      }).then(function (judged) {
        if (!judged.ok) { throw new Error(judged.body.message || text(root, "error")); }
        var passed = judged.body.passed === true;
        say(outcome, text(root, passed ? "passed" : "failed"), passed);
        (judged.body.failures || []).forEach(function (failure) {
          var item = document.createElement("li");
          item.setAttribute("data-check", failure.check);
          var message = document.createElement("strong");
          message.textContent = failure.message;
          var advice = document.createElement("p");
          advice.textContent = failure.advice;
          item.appendChild(message);
          item.appendChild(advice);
          failures.appendChild(item);
        });
        root.setAttribute("data-state", passed ? "passed" : "failed");
      }).catch(function (error) {
        say(outcome, error.message || text(root, "error"), false);
        root.setAttribute("data-state", "error");
      }).then(function () {
        // a run is judged once: the next one starts afresh
        runButton.disabled = false;
      });
    });
  }

  // --- the start of an exam -------------------------------------------------------------

  function examStart(root) {
    var state = { screen: null, webcam: false };
    var result = function (name) { return root.querySelector('[data-result="' + name + '"]'); };
    var confirm = root.querySelector("[data-confirm]");
    var refusal = root.querySelector("[data-refusal]");
    var terms = root.querySelector("[data-terms]");

    root.querySelector('[data-step="screen"]').addEventListener("click", function () {
      shareScreen().then(function (shared) {
        state.screen = shared.surface;
        say(result("screen"), text(root, "shared"), shared.surface === "monitor");
      }, function () { say(result("screen"), text(root, "refused"), false); });
    });
    root.querySelector('[data-step="webcam"]').addEventListener("click", function () {
      startWebcam(root.querySelector("[data-preview]")).then(function (cam) {
        state.webcam = cam.live;
        say(result("webcam"), text(root, "webcam"), cam.live);
      }, function () { say(result("webcam"), text(root, "refused"), false); });
    });
    root.querySelector('[data-step="start"]').addEventListener("click", function () {
      refusal.hidden = true;
      confirm.hidden = false;
      confirm.querySelector("button").focus();
    });
    root.querySelector('[data-step="confirm"]').addEventListener("click", function () {
      confirm.hidden = true;
      call("POST", root.getAttribute("data-start-url"), {
        terms_accepted: terms.checked,
        screen_share: { display_surface: state.screen },
        webcam: { ok: state.webcam }
      }).then(function (answer) {
        if (answer.ok) {
          window.location.assign(root.getAttribute("data-exam-page")
            .replace("00000000-0000-0000-0000-000000000000", answer.body.attempt_id));
          return;
        }
        refusal.textContent = answer.body.message || text(root, "error");
        refusal.setAttribute("data-error", answer.body.error || "");
        refusal.hidden = false;
        refusal.focus();
      }, function () {
        refusal.textContent = text(root, "error");
        refusal.hidden = false;
      });
    });
  }

  // --- the exam page --------------------------------------------------------------------

  var AUTOSAVE_MS = 3000;

  function clock(date) {
    return date.toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
  }

  function exam(root) {
    var id = root.getAttribute("data-attempt");
    var base = "/api/v1/attempts/" + id;
    var key = "nexam-answer-" + id;
    var editor = root.querySelector("[data-answer]");
    var saved = root.querySelector("[data-saved]");
    var offline = root.querySelector("[data-offline]");
    var countdown = root.querySelector("[data-countdown]");
    var submit = root.querySelector("[data-submit]");
    var state = { revision: 0, sent: null, saving: null, stale: false, endsAt: null, done: false };

    function keep() {
      try { localStorage.setItem(key, JSON.stringify({ content: editor.value, revision: state.revision })); } catch (e) { /* full */ }
    }

    // what happened while offline is reported, with when it happened, once back online
    var unreported = [];
    function send(event) {
      return call("POST", base + "/events", event).then(function (answer) {
        if (retryLater(answer)) { unreported.push(event); }
      }, function () { unreported.push(event); });
    }
    function report(type, details) {
      var event = { type: type, occurred_at: new Date().toISOString(), details: details || null };
      if (!navigator.onLine) { unreported.push(event); return Promise.resolve(); }
      return send(event);
    }
    function flushReports() {
      var waiting = unreported;
      unreported = [];
      waiting.forEach(send);
    }

    function showOffline(message) {
      offline.textContent = message;
      offline.hidden = !message;
      root.setAttribute("data-connection", message ? "offline" : "online");
    }

    function save() {
      // one save at a time: a save asked for during another follows it
      if (state.saving) { return state.saving.then(save); }
      if (state.stale || state.done || editor.value === state.sent) { return Promise.resolve(); }
      var content = editor.value;
      say(saved, text(root, "saving"));
      state.saving = call("PUT", base + "/answer", { content: content, revision: state.revision }).then(function (answer) {
        state.saving = null;
        if (answer.ok) {
          state.revision = answer.body.revision;
          state.sent = content;
          keep();
          if (editor.value === content) { localStorage.removeItem(key); }
          showOffline("");
          if (unreported.length) { flushReports(); }
          say(saved, text(root, "saved").replace("{time}", clock(new Date(answer.body.saved_at))), true);
          root.setAttribute("data-saved-revision", String(state.revision));
        } else if (retryLater(answer)) {
          // busy or briefly unreachable: the answer is kept and the next round sends it
          keep();
          showOffline(text(root, "offline"));
        } else if (answer.body.error === "stale_revision") {
          state.stale = true;
          say(saved, text(root, "stale"), false);
          showOffline(text(root, "stale"));
        } else {
          say(saved, answer.body.message || text(root, "error"), false);
        }
      }, function () {
        state.saving = null;
        keep();
        showOffline(text(root, "offline"));
      });
      return state.saving;
    }

    editor.addEventListener("input", function () {
      keep();
      root.setAttribute("data-dirty", "true");
    });
    window.setInterval(function () { if (navigator.onLine) { save(); } }, AUTOSAVE_MS);

    window.addEventListener("offline", function () {
      keep();
      showOffline(text(root, "offline"));
      report("went_offline");
    });
    window.addEventListener("online", function () {
      flushReports();
      report("back_online");
      save();
    });
    document.addEventListener("visibilitychange", function () {
      report(document.hidden ? "focus_lost" : "focus_back");
    });
    window.addEventListener("blur", function () { report("focus_lost"); });

    // the screen and the webcam, shared again on this page (a new page cannot keep the
    // start page's streams): their end is reported, and a button asks for them again
    var monitoring = root.querySelector("[data-monitoring]");
    var screenButton = root.querySelector("[data-share-screen]");
    var webcamButton = root.querySelector("[data-share-webcam]");
    var media = { screen: false, webcam: false, screenEver: false, webcamEver: false };
    function showMonitoring() {
      screenButton.hidden = media.screen;
      webcamButton.hidden = media.webcam;
      monitoring.hidden = media.screen && media.webcam;
    }
    screenButton.addEventListener("click", function () {
      shareScreen().then(function (shared) {
        var track = shared.stream.getVideoTracks()[0];
        if (media.screenEver) { report("screen_share_resumed", { display_surface: String(shared.surface) }); }
        media.screen = true;
        media.screenEver = true;
        track.addEventListener("ended", function () {
          media.screen = false;
          report("screen_share_ended");
          showMonitoring();
        });
        showMonitoring();
      }, function () { showMonitoring(); });
    });
    webcamButton.addEventListener("click", function () {
      startWebcam(null).then(function (cam) {
        var track = cam.stream.getVideoTracks()[0];
        if (media.webcamEver) { report("webcam_back"); }
        media.webcam = true;
        media.webcamEver = true;
        track.addEventListener("ended", function () {
          media.webcam = false;
          report("webcam_lost");
          showMonitoring();
        });
        showMonitoring();
      }, function () { showMonitoring(); });
    });

    function tick() {
      if (!state.endsAt) { return; }
      var left = Math.max(0, Math.floor((state.endsAt - Date.now()) / 1000));
      var minutes = Math.floor(left / 60);
      var seconds = left % 60;
      countdown.textContent = left > 0
        ? text(root, "left").replace("{time}", minutes + ":" + (seconds < 10 ? "0" : "") + seconds)
        : text(root, "over");
    }

    call("GET", base).then(function (answer) {
      if (!answer.ok) { say(saved, answer.body.message || text(root, "error"), false); return; }
      var attempt = answer.body;
      root.querySelector("[data-title]").textContent = attempt.title;
      state.revision = attempt.revision;
      state.sent = attempt.content;
      state.endsAt = Date.parse(attempt.ends_at);
      var kept = null;
      try { kept = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { kept = null; }
      editor.value = kept && kept.revision >= attempt.revision ? kept.content : attempt.content;
      if (attempt.submitted_at) { state.done = true; editor.disabled = true; submit.disabled = true; }
      root.querySelector("[data-subject]").src = RELAY + base + "/document";
      tick();
      window.setInterval(tick, 1000);
      root.setAttribute("data-ready", "true");
    });

    var confirmSubmit = root.querySelector("[data-confirm-submit]");
    submit.addEventListener("click", function () {
      confirmSubmit.hidden = false;
      confirmSubmit.querySelector("[data-submit-confirmed]").focus();
    });
    root.querySelector("[data-submit-cancel]").addEventListener("click", function () {
      confirmSubmit.hidden = true;
      editor.focus();
    });
    root.querySelector("[data-submit-confirmed]").addEventListener("click", function () {
      confirmSubmit.hidden = true;
      submit.disabled = true;
      save().then(function () {
        return call("POST", base + "/submit");
      }).then(function (answer) {
        if (!answer.ok) { say(saved, answer.body.message || text(root, "error"), false); submit.disabled = false; return; }
        state.done = true;
        editor.disabled = true;
        localStorage.removeItem(key);
        var receipt = root.querySelector("[data-receipt]");
        receipt.querySelector("[data-receipt-copy]").textContent = answer.body.copy_id;
        receipt.querySelector("[data-receipt-sha]").textContent = answer.body.sha256;
        receipt.querySelector("[data-receipt-time]").textContent = new Date(answer.body.submitted_at).toLocaleString(document.documentElement.lang);
        receipt.hidden = false;
        receipt.focus();
      }, function () {
        submit.disabled = false;
        showOffline(text(root, "offline"));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var found = document.querySelector("[data-device-check]");
    if (found) { deviceCheck(found); }
    found = document.querySelector("[data-exam-start]");
    if (found) { examStart(found); }
    found = document.querySelector("[data-exam]");
    if (found) { exam(found); }
  });
})();
