// Helpers shared by the live, history and report pages. Data from devices is only ever
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

  // Two shoes. The LSI names and their totals (heelraise.symmetry.LSI_OF), in table order.
  const LSIS = [
    ["reps_lsi", "reps", "Reps", 0],
    ["heel_rise_lsi", "mean_heel_rise_mm", "Mean heel mm", 1],
    ["work_lsi", "work_j", "Work J", 1],
  ];
  const SIDE_NAMES = { left: "Left", right: "Right", both: "Both" };

  function sideName(side) {
    return side ? SIDE_NAMES[side] || String(side) : "";
  }

  // "reps 70.0 · heel 82.1 · work 57.5 %", or "" when the session took none.
  function lsiText(sym) {
    if (!sym || sym.reps_lsi === null && sym.heel_rise_lsi === null && sym.work_lsi === null) return "";
    const short = { reps_lsi: "reps", heel_rise_lsi: "heel", work_lsi: "work" };
    return LSIS.map(([k]) => `${short[k]} ${fmt(sym[k])}`).join(" · ") + " %";
  }

  // Which side is divided by which, in words ("involved (right) / uninvolved (left)").
  function ratioText(sym) {
    if (!sym || !sym.ratio) return "";
    if (sym.ratio === "left/right") return "left / right × 100 (no involved side set)";
    const other = sym.involved === "left" ? "right" : "left";
    return `involved (${sym.involved}) / uninvolved (${other}) × 100`;
  }

  // A table of both shoes' totals beside their LSIs, the label and the note under it;
  // the LSI cell is marked "low" under 90 % (the usual return-to-running mark).
  function symmetryBox(sides, sym) {
    const box = el("div", "symmetry");
    const present = ["left", "right"].filter((s) => sides && sides[s]);
    if (!present.length) return box;
    const table = el("table", "lsi");
    const head = el("tr");
    head.append(el("th", "", ""));
    for (const s of present) head.append(el("th", "", sideName(s)));
    if (sym && sym.ratio) head.append(el("th", "", "LSI %"));
    table.append(el("thead"));
    table.tHead.append(head);
    const body = el("tbody");
    for (const [lsi, total, label, digits] of LSIS) {
      const tr = el("tr", "lsi-row");
      tr.dataset.lsi = lsi;
      tr.append(el("td", "", label));
      for (const s of present) tr.append(el("td", "", fmt(sides[s][total], digits)));
      if (sym && sym.ratio) {
        const v = sym[lsi];
        tr.append(el("td", v !== null && v < LSI_MARK_PCT ? "lsi-value low" : "lsi-value", fmt(v)));
      }
      body.append(tr);
    }
    table.append(body);
    const tableBox = el("div", "table-box");
    tableBox.append(table);
    box.append(tableBox);
    if (sym && sym.ratio) box.append(el("p", "note", `LSI = ${ratioText(sym)}`));
    if (sym && sym.note) box.append(el("p", "note", sym.note));
    if (!sym) box.append(el("p", "note", "LSIs come when the session ends"));
    return box;
  }
  // Return to running is usually cleared at an LSI of about 90 % (issue 15).
  const LSI_MARK_PCT = 90;

  return {
    el,
    fmt,
    sideName,
    lsiText,
    ratioText,
    symmetryBox,
    LSI_MARK_PCT,
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
