// Helpers shared by the live and history pages. Data from devices is only ever
// placed with textContent (never innerHTML), so a device id like
// "<img src=x onerror=...>" shows as text.
"use strict";

const HR = (() => {
  // rep field, css class, label, tempo field
  const PHASES = [
    ["raise_s", "raise", "rise", "raise_s"],
    ["top_hold_s", "top", "hold", "top_s"],
    ["lower_s", "lower", "lower", "lower_s"],
    ["bottom_hold_s", "bottom", "pause", "bottom_s"],
  ];
  // Same rule as heelraise.tempo.phase_verdict: off by > max(35 %, 0.4 s)
  // (tests/test_views_pages.py checks these against the Python constants).
  const TOLERANCE_FRACTION = 0.35;
  const TOLERANCE_MIN_S = 0.4;
  // The phases the chain judges for too_fast / too_slow (heelraise.chain.faults): only
  // these are outlined when off target; hold and pause are shown, never judged.
  const JUDGED = new Set(["raise", "lower"]);
  // What the analyzer's phase names mean to a person (keys: heelraise.mqtt.discovery.PHASES).
  const PHASE_LABELS = {
    uncalibrated: "stand still to calibrate",
    searching: "waiting for a rep",
    still: "standing still",
    rising: "rising",
    top: "holding at the top",
    lowering: "lowering",
    bottom: "pause at the bottom",
    walking: "walking",
  };

  function phaseLabel(phase) {
    if (phase === null || phase === undefined || phase === "") return "–";
    return Object.hasOwn(PHASE_LABELS, phase) ? PHASE_LABELS[phase] : String(phase);
  }

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function fmt(value, digits = 1) {
    return value === null || value === undefined || Number.isNaN(value)
      ? "–"
      : Number(value).toFixed(digits);
  }

  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
  }

  function query(params) {
    const clean = {};
    for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) clean[k] = v;
    return new URLSearchParams(clean).toString();
  }

  function offPhase(measured, target) {
    if (measured === null || measured === undefined || target === null || target === undefined) {
      return false;
    }
    const allowed = Math.max(TOLERANCE_FRACTION * target, TOLERANCE_MIN_S);
    return Math.abs(measured - target) > allowed;
  }

  // Seconds a rep row needs: measured and target phases, whichever is longer.
  function repSpan(rep) {
    let measured = 0;
    let target = 0;
    for (const [key, , , tkey] of PHASES) {
      measured += rep[key] || 0;
      if (rep.tempo) target += rep.tempo[tkey] || 0;
    }
    return Math.max(measured, target);
  }

  function bar(values, className, scaleS, rep, withLabels) {
    const row = el("div", `bar ${className}`);
    PHASES.forEach(([key, cls, label, tkey], i) => {
      const seconds = values[i];
      const seg = el("span", `seg ${cls}`);
      seg.dataset.phase = cls;
      seg.style.width = `${Math.max(0, ((seconds || 0) / scaleS) * 100)}%`;
      seg.title = `${label} ${fmt(seconds, 2)} s`;
      if (withLabels) {
        if (seconds !== null && seconds !== undefined && seconds / scaleS > 0.06) {
          seg.textContent = fmt(seconds, 1);
        }
        if (JUDGED.has(cls) && rep.tempo && offPhase(seconds, rep.tempo[tkey])) {
          seg.classList.add("off");
          seg.title += ` (target ${fmt(rep.tempo[tkey], 1)} s)`;
        }
      }
      row.append(seg);
    });
    return row;
  }

  // One list item: measured phases, the target tempo below, fault chips.
  function tempoRow(rep, scaleS) {
    const li = el("li", "rep");
    li.dataset.index = String(rep.index);
    li.append(el("span", "rep-label", `#${rep.index}`));
    const track = el("div", "track");
    track.append(
      bar(
        PHASES.map(([key]) => rep[key]),
        "measured",
        scaleS,
        rep,
        true,
      ),
    );
    if (rep.tempo) {
      track.append(
        bar(
          PHASES.map(([, , , tkey]) => rep.tempo[tkey]),
          "target",
          scaleS,
          rep,
          false,
        ),
      );
    }
    li.append(track);
    const faults = el("span", "faults");
    for (const f of rep.faults || []) faults.append(el("span", "fault", faultLabel(f)));
    if ((rep.faults || []).length) li.classList.add("has-fault");
    li.append(faults);
    return li;
  }

  // A rep's pause at the bottom is only known once the next rep starts; fill it
  // in from the next rep of the same set until the set message brings the final value.
  function withPauses(reps) {
    return reps.map((r, i) => {
      const next = reps[i + 1];
      if (r.bottom_hold_s === null && next && next.index === r.index + 1) {
        return { ...r, bottom_hold_s: Math.max(0, next.start_s - r.end_s) };
      }
      return r;
    });
  }

  function faultLabel(f) {
    return String(f).replace(/_/g, " ");
  }

  // A uPlot chart as wide as its box, redrawn at the box's width when it changes
  // (a phone turned sideways, a window resized); never wider than the screen.
  function plot(box, opts, data) {
    const width = () => Math.max(200, Math.floor(box.clientWidth || 300));
    // legend: series names only (no values that follow the cursor: noise on a phone)
    const u = new uPlot({ legend: { live: false }, ...opts, width: width() }, data, box);
    if (typeof ResizeObserver === "function") {
      let last = width();
      new ResizeObserver(() => {
        const w = width();
        if (w !== last) {
          last = w;
          u.setSize({ width: w, height: opts.height });
        }
      }).observe(box);
    }
    return u;
  }

  // Every cell gets its column's name (data-label), so on a phone a table can show as
  // labelled cells in a grid (app.css, table.stack) instead of scrolling sideways.
  function labelCells(table) {
    const names = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
    for (const tr of table.querySelectorAll("tbody tr")) {
      [...tr.children].forEach((td, i) => {
        if (names[i]) td.dataset.label = names[i];
      });
    }
    table.classList.add("stack");
    return table;
  }

  function renderBars(list, reps) {
    reps = withPauses(reps);
    const scaleS = Math.max(4, ...reps.map(repSpan)) * 1.05;
    list.replaceChildren(...reps.map((r) => tempoRow(r, scaleS)));
  }

  function legend() {
    const box = el("div", "legend");
    for (const [, cls, label] of PHASES) box.append(el("span", cls, label));
    box.append(el("em", "note", "thin bar: target tempo · red outline: rise or lowering off target"));
    return box;
  }

  return {
    el,
    fmt,
    getJSON,
    query,
    renderBars,
    legend,
    plot,
    phaseLabel,
    faultLabel,
    labelCells,
    PHASES,
  };
})();
