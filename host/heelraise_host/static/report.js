// The physiotherapist's report: /api/report drawn as tables (text only, never HTML).
"use strict";

(() => {
  const { el, fmt, getJSON, query, faultLabel, labelCells, sideName, ratioText, LSI_MARK_PCT } = HR;
  const params = new URLSearchParams(location.search);
  const args = {};
  for (const k of ["device", "session", "since", "until", "tz_offset_min"]) {
    if (params.get(k)) args[k] = params.get(k);
  }
  if (!args.tz_offset_min) args.tz_offset_min = String(-new Date().getTimezoneOffset());

  const day = (iso) =>
    new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
  const pct = (v) => (v === null || v === undefined ? "–" : `${fmt(v, 0)} %`);
  const withTarget = (v, t) => (t === null || t === undefined ? fmt(v, 1) : `${fmt(v, 1)} (${fmt(t, 1)})`);

  function rows(tableId, list, cells) {
    const body = document.querySelector(`#${tableId} tbody`);
    body.replaceChildren(
      ...list.map((item, i) => {
        const tr = el("tr");
        for (const c of cells(item, i)) {
          if (c instanceof Node) tr.append(c);
          else tr.append(el("td", "", c));
        }
        return tr;
      }),
    );
    labelCells(document.getElementById(tableId));
    return body;
  }

  function faultsCell(faults) {
    const td = el("td", "faults-cell");
    Object.entries(faults).forEach(([f, n], i) => {
      if (i) td.append(", ");
      td.append(el("span", "", `${faultLabel(f)} ${n}`));
    });
    return td;
  }

  function draw(r) {
    const who = r.device || (r.devices.length ? r.devices.join(", ") : "all devices");
    document.getElementById("title").textContent = `Heel-raise report: ${who}`;
    let scope;
    if (r.session && r.sessions.length) scope = `session of ${day(r.sessions[0].started_at)}`;
    else scope = `${r.since ? `from ${r.since}` : "from the first session"} ${r.until ? `to ${r.until}` : "to today"}`;
    document.getElementById("scope").textContent =
      `${scope} · ${r.session_count} session(s), ${r.rep_count} reps · printed ${new Date().toLocaleDateString()}`;

    const next = r.suggestion;
    const noSuggestion = r.devices.length > 1 ? "choose one shoe (device) for a suggestion" : "no reps yet";
    document.getElementById("next-text").textContent = next ? next.text : noSuggestion;
    document.getElementById("next-why").textContent = next ? next.why : "";
    document.getElementById("next-basis").textContent = next ? next.basis : "";

    rows("weeks", r.weeks, (w) => [
      w.week,
      w.sessions,
      w.reps,
      fmt(w.mean_heel_rise_mm),
      pct(w.faulty_pct),
      w.endurance_reps ?? "–",
      pct(w.endurance_decline_pct),
      w.lsi_sessions ? `${fmt(w.reps_lsi, 0)} / ${fmt(w.heel_rise_lsi, 0)} / ${fmt(w.work_lsi, 0)} %` : "–",
    ]);
    // the LSI column and the shoe column only where there are two shoes
    document.getElementById("weeks").classList.toggle("no-lsi", !r.weeks.some((w) => w.lsi_sessions));
    const anySide = r.sessions.some((s) => s.sets.some((st) => st.side));
    document.getElementById("sets").classList.toggle("no-sides", !anySide);
    // Two shoes on one device: each session's totals per shoe and its LSIs.
    const limb = r.limb_symmetry || [];
    document.getElementById("limb-symmetry").hidden = limb.length === 0;
    if (limb.length) {
      const last = limb[limb.length - 1].symmetry;
      document.getElementById("lsi-definition").textContent =
        `LSI = ${ratioText(last)}; return to running is usually cleared at about ${LSI_MARK_PCT} %.`;
      const pair = (sides, key, digits) => {
        const v = (side) => (sides[side] ? fmt(sides[side][key], digits) : "–");
        return `${v("left")} / ${v("right")}`;
      };
      const lsi = (v) => {
        const td = el("td", v !== null && v < LSI_MARK_PCT ? "lsi-value low" : "lsi-value", pct(v));
        return td;
      };
      rows("lsis", limb, (x) => [
        day(x.started_at),
        pair(x.sides, "reps", 0),
        pair(x.sides, "mean_heel_rise_mm", 1),
        pair(x.sides, "work_j", 0),
        lsi(x.symmetry.reps_lsi),
        lsi(x.symmetry.heel_rise_lsi),
        lsi(x.symmetry.work_lsi),
      ]);
    }
    const sym = r.symmetry;
    document.getElementById("symmetry").hidden = !sym;
    if (sym) {
      document.getElementById("symmetry-summary").textContent =
        `difference between the shoes: heel height ${pct(sym.heel_difference_pct)},` +
        ` rise ${pct(sym.raise_difference_pct)}, lowering ${pct(sym.lower_difference_pct)}`;
      rows("shoes", sym.shoes, (s) => [
        s.device,
        s.reps,
        fmt(s.mean_heel_rise_mm),
        fmt(s.mean_raise_s, 2),
        fmt(s.mean_lower_s, 2),
      ]);
    }
    document.getElementById("no-endurance").hidden = r.endurance.length > 0;
    document.getElementById("endurance").hidden = r.endurance.length === 0;
    rows("endurance", r.endurance, (e) => [
      day(e.started_at),
      e.reps,
      `${fmt(e.first_heel_rise_mm)} / ${fmt(e.last_heel_rise_mm)}`,
      pct(e.decline_pct),
      fmt(e.work_j, 0),
      e.stopped_by ?? "–",
    ]);
    const sets = r.sessions.flatMap((s) => s.sets.map((st, i) => ({ s, st, first: i === 0 })));
    document.getElementById("no-sessions").hidden = sets.length > 0;
    const body = rows("sets", sets, ({ s, st, first }) => [
      first ? day(s.started_at) : "",
      sideName(st.side) || "–",
      st.index,
      st.reps,
      st.tempo ?? "none",
      withTarget(st.mean_raise_s, st.target_raise_s),
      withTarget(st.mean_top_hold_s, st.target_top_s),
      withTarget(st.mean_lower_s, st.target_lower_s),
      `${fmt(st.mean_heel_rise_mm)} (max ${fmt(st.max_heel_rise_mm)})`,
      pct(st.height_decline_pct),
      pct(st.speed_decline_pct),
      faultsCell(st.faults),
    ]);
    [...body.children].forEach((tr, i) => {
      if (sets[i].first && i > 0) tr.classList.add("session-first");
    });
  }

  async function main() {
    try {
      draw(await getJSON(`/api/report?${query(args)}`));
    } catch (err) {
      const box = document.getElementById("error");
      box.hidden = false;
      box.textContent = `Could not make the report: ${err.message}`;
    }
    document.body.dataset.ready = "1";
  }

  document.getElementById("print").addEventListener("click", () => window.print());
  main();
})();
