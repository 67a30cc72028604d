// History: weekly trends, sessions by day, one session's sets and reps, exports.
"use strict";

(() => {
  const { el, fmt, getJSON, query, renderBars, legend, plot, faultLabel, labelCells } = HR;
  const { sideName, lsiText, ratioText, symmetryBox, LSI_MARK_PCT } = HR;
  const params = new URLSearchParams(location.search);
  const deviceSelect = document.getElementById("device");
  const weeksSelect = document.getElementById("weeks");
  const status = document.getElementById("conn");

  // A titled chart card; with no data in any series, a line saying so instead of empty axes.
  function chart(box, title, opts, data, emptyText) {
    const wrap = el("div", "chart");
    wrap.append(el("h3", "", title));
    if (opts.note) wrap.append(el("p", "note", opts.note));
    const slot = el("div", "slot");
    wrap.append(slot);
    box.append(wrap);
    const hasData = data.slice(1).some((col) => col.some((v) => v !== null && v !== undefined));
    if (!hasData && emptyText) {
      slot.append(el("p", "empty-chart", emptyText));
      return null;
    }
    return plot(slot, { height: 200, ...opts }, data);
  }

  function weekSeconds(week) {
    return new Date(`${week}T00:00:00`).getTime() / 1000; // local midnight, like the buckets
  }

  async function showTrends(device) {
    const weeks = weeksSelect.value;
    const tz = -new Date().getTimezoneOffset();
    const rows = await getJSON(`/api/trends?${query({ device, weeks, tz_offset_min: tz })}`);
    const box = document.getElementById("trends");
    box.replaceChildren();
    const x = rows.map((r) => weekSeconds(r.week));
    const col = (k) => rows.map((r) => r[k]);
    const bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined;
    const line = (label, stroke) => ({ label, stroke, width: 2, points: { show: true }, spanGaps: true });
    chart(box, "Reps per week", { series: [{}, { label: "reps", fill: "#2f7fd155", stroke: "#2f7fd1", paths: bars }] }, [x, col("reps")]);
    chart(box, "Heel height (mean mm)", { series: [{}, line("heel mm", "#2a9d6e")] }, [x, col("mean_heel_rise_mm")]);
    chart(
      box,
      "Tempo consistency",
      {
        note: "rep time spread % (lower is steadier), seconds off target",
        series: [{}, line("spread %", "#7b5fc7"), line("off target s", "#c0392b")],
      },
      [x, col("tempo_cv_pct"), col("tempo_dev_s")],
    );
    chart(
      box,
      "Endurance test",
      {
        note: "best reps, heel-height decline %",
        series: [{}, line("reps", "#2f7fd1"), line("decline %", "#c0392b")],
      },
      [x, col("endurance_reps"), col("endurance_decline_pct")],
      "No tests yet",
    );
    // Two shoes: each week's mean LSIs, taken as its latest two-shoe session took them
    // (no chart for a single shoe: it has no symmetry to show).
    const latest = [...rows].reverse().find((r) => r.lsi_ratio);
    if (!latest) return;
    const mark = x.map(() => LSI_MARK_PCT);
    chart(
      box,
      "Limb symmetry (LSI %)",
      {
        note: `${ratioText({ ratio: latest.lsi_ratio, involved: latest.involved })}; dashed: ${LSI_MARK_PCT} %`,
        series: [
          {},
          line("reps", "#2f7fd1"),
          line("heel", "#2a9d6e"),
          line("work", "#c0392b"),
          { label: `${LSI_MARK_PCT} %`, stroke: "#65707c", width: 1, dash: [6, 4], points: { show: false } },
        ],
      },
      [x, col("reps_lsi"), col("heel_rise_lsi"), col("work_lsi"), mark],
    );
  }

  async function showSessions(device) {
    const sessions = await getJSON(`/api/sessions?${query({ device })}`);
    const box = document.getElementById("sessions");
    box.replaceChildren();
    document.getElementById("no-sessions").hidden = sessions.length > 0;
    const byDay = new Map();
    for (const s of sessions) {
      const day = new Date(s.started_at).toLocaleDateString(undefined, {
        weekday: "short",
        year: "numeric",
        month: "short",
        day: "numeric",
      });
      if (!byDay.has(day)) byDay.set(day, []);
      byDay.get(day).push(s);
    }
    for (const [day, list] of byDay) {
      const section = el("section", "day");
      section.append(el("h3", "", day));
      const table = el("table", "sessions");
      const head = el("tr");
      for (const h of ["Time", "Device", "Session", "Side", "Sets", "Reps", "Heel (mm)", "LSI", "Endurance"]) {
        head.append(el("th", "", h));
      }
      table.append(el("thead"));
      table.tHead.append(head);
      const body = el("tbody");
      for (const s of list) {
        const tr = el("tr", "session-row");
        const link = el("a", "", s.session);
        link.href = `/history?${query({ device: s.device, session: s.session })}`;
        const time = new Date(s.started_at).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
        const endurance = s.endurance ? `${s.endurance.reps} reps, −${fmt(s.endurance.decline_pct)} %` : "";
        tr.append(el("td", "", time), el("td", "wrap device", s.device));
        const cell = el("td", "wrap");
        cell.append(link);
        tr.append(cell, el("td", "side", sideName(s.side)));
        tr.append(el("td", "", s.set_count), el("td", "reps", s.rep_count));
        tr.append(el("td", "", fmt(s.mean_heel_rise_mm)), el("td", "lsi wrap", lsiText(s.symmetry)));
        tr.append(el("td", "", endurance));
        tr.addEventListener("click", (e) => {
          if (e.target !== link) location.href = link.href;
        });
        body.append(tr);
      }
      table.append(body);
      const tableBox = el("div", "table-box");
      tableBox.append(labelCells(table));
      section.append(tableBox);
      box.append(section);
    }
  }

  // The target tempo(s) of a session's reps, as written ("3-0-2-1"), in order of first use.
  function tempos(reps) {
    const seen = [];
    for (const r of reps) {
      const t = r.tempo && r.tempo.text;
      if (t && !seen.includes(t)) seen.push(t);
    }
    return seen;
  }

  // uPlot plugin: a dashed vertical line between sets (x is the rep number across the session).
  function setBoundaries(starts) {
    return {
      hooks: {
        draw: [
          (u) => {
            u.root.dataset.setStarts = starts.join(","); // which reps the dashes are before
            const { ctx } = u;
            ctx.save();
            ctx.strokeStyle = "#65707c";
            ctx.setLineDash([4, 4]);
            ctx.lineWidth = 1;
            for (const x of starts) {
              const px = u.valToPos(x - 0.5, "x", true);
              ctx.beginPath();
              ctx.moveTo(px, u.bbox.top);
              ctx.lineTo(px, u.bbox.top + u.bbox.height);
              ctx.stroke();
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  async function showDetail(device, session) {
    document.getElementById("overview").hidden = true;
    document.getElementById("detail").hidden = false;
    const d = await getJSON(`/api/session?${query({ device, session })}`);
    const reps = d.sets.flatMap((s) => s.reps);
    const targets = tempos(reps);
    const started = new Date(d.started_at);
    const when = started.toLocaleString(undefined, {
      weekday: "short",
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    });
    document.getElementById("detail-title").textContent = `${d.device} · ${when}`;
    document.getElementById("detail-tempo").textContent = targets.length ? targets.join(", ") : "none";
    const sides = ["left", "right"].filter((s) => d.sides && d.sides[s]);
    const meta = `${d.set_count} sets · ${d.rep_count} reps` +
      (sides.length === 2 ? " · both shoes" : sides.length ? ` · ${sides[0]} shoe` : "") +
      (d.endurance ? ` · endurance ${d.endurance.reps} reps, decline ${fmt(d.endurance.decline_pct)} %` : "");
    document.getElementById("detail-meta").textContent = meta;
    document.getElementById("detail-session").textContent = d.session;
    const key = { device: d.device, session: d.session };
    document.getElementById("export-csv").href = `/api/export?${query({ ...key, format: "csv" })}`;
    document.getElementById("export-json").href = `/api/export?${query({ ...key, format: "json" })}`;
    document.getElementById("report").href = `/report?${query(key)}`;
    const symmetry = document.getElementById("symmetry");
    symmetry.replaceChildren();
    if (sides.length) {
      symmetry.append(el("h3", "", sides.length === 2 ? "Both shoes and their symmetry" : "This shoe"));
      symmetry.append(symmetryBox(d.sides, d.symmetry));
    }

    const x = reps.map((_, i) => i + 1);
    const col = (k) => reps.map((r) => r[k]);
    const target = (k) => reps.map((r) => (r.tempo ? r.tempo[k] : null));
    const line = (label, stroke) => ({ label, stroke, width: 2, points: { show: true } });
    const dashed = (label, stroke) => ({ label, stroke, width: 1.5, dash: [6, 4], points: { show: false } });
    const starts = [];
    let n = 0;
    for (const s of d.sets) {
      if (n > 0 && s.reps.length) starts.push(n + 1);
      n += s.reps.length;
    }
    const noTime = { x: { time: false } };
    const heelBox = document.getElementById("chart-heel");
    const phaseBox = document.getElementById("chart-phases");
    heelBox.replaceChildren();
    phaseBox.replaceChildren();
    if (sides.length === 2) {
      // each shoe's heel height over its own reps, one line each
      const of = (side) => d.sets.filter((s) => s.side === side).flatMap((s) => s.reps);
      const [l, r] = [of("left"), of("right")];
      const n = Math.max(l.length, r.length);
      const xs = Array.from({ length: n }, (_, i) => i + 1);
      const heel = (list) => xs.map((i) => (list[i - 1] ? list[i - 1].heel_rise_mm : null));
      plot(
        heelBox,
        {
          height: 200,
          scales: noTime,
          series: [{ label: "rep of its shoe" }, line("left mm", "#2f7fd1"), line("right mm", "#c0392b")],
        },
        [xs, heel(l), heel(r)],
      );
    } else {
      plot(
        heelBox,
        {
          height: 200,
          scales: noTime,
          plugins: [setBoundaries(starts)],
          series: [{ label: "rep" }, line("heel mm", "#2a9d6e")],
        },
        [x, col("heel_rise_mm")],
      );
    }
    plot(
      phaseBox,
      {
        height: 220,
        scales: noTime,
        plugins: [setBoundaries(starts)],
        series: [
          { label: "rep" },
          line("rise", "#2f7fd1"),
          line("hold", "#7b5fc7"),
          line("lower", "#2a9d6e"),
          line("pause", "#8a949e"),
          dashed("target rise", "#2f7fd1"),
          dashed("target lower", "#2a9d6e"),
        ],
      },
      [
        x,
        col("raise_s"),
        col("top_hold_s"),
        col("lower_s"),
        col("bottom_hold_s"),
        target("raise_s"),
        target("lower_s"),
      ],
    );

    const sets = document.getElementById("sets");
    sets.replaceChildren();
    // Two shoes side by side (one above the other on a phone): a column of sets per shoe.
    const columns = new Map();
    for (const s of d.sets) {
      const side = s.side || "";
      if (!columns.has(side)) {
        const column = el("div", "side-column");
        column.dataset.side = side;
        if (side) column.append(el("h3", "side-title", `${sideName(side)} shoe`));
        columns.set(side, column);
      }
    }
    const grid = el("div", columns.size > 1 ? "sides" : "one-side");
    grid.append(...columns.values());
    sets.append(grid);
    for (const s of d.sets) {
      const section = el("section", "set");
      const sum = s.summary;
      section.append(
        el("h3", "", `Set ${s.index}: ${s.reps.length} reps` + (sum ? `, ended by ${sum.ended_by}` : "")),
      );
      const table = el("table", "reps");
      const head = el("tr");
      for (const h of ["Rep", "Rise s", "Hold s", "Lower s", "Pause s", "Heel mm", "Peak °", "Roll °", "Faults"]) {
        head.append(el("th", "", h));
      }
      table.append(el("thead"));
      table.tHead.append(head);
      const body = el("tbody");
      for (const r of s.reps) {
        const tr = el("tr", "rep-row");
        const faults = el("td", "faults-cell");
        (r.faults || []).forEach((f, i) => {
          if (i) faults.append(", ");
          faults.append(el("span", "", faultLabel(f)));
        });
        tr.append(
          el("td", "", r.index),
          el("td", "", fmt(r.raise_s, 2)),
          el("td", "", fmt(r.top_hold_s, 2)),
          el("td", "", fmt(r.lower_s, 2)),
          el("td", "", fmt(r.bottom_hold_s, 2)),
          el("td", "", fmt(r.heel_rise_mm)),
          el("td", "", fmt(r.peak_deg)),
          el("td", "", fmt(r.roll_deg)),
          faults,
        );
        body.append(tr);
      }
      table.append(body);
      const tableBox = el("div", "table-box");
      tableBox.append(labelCells(table));
      section.append(tableBox, legend());
      const list = el("ol", "bars");
      renderBars(list, s.reps);
      section.append(list);
      columns.get(s.side || "").append(section);
    }
  }

  async function loadDevices() {
    const devices = await getJSON("/api/devices");
    for (const d of devices) {
      const opt = el("option", "", d.device);
      opt.value = d.device;
      deviceSelect.append(opt);
    }
    deviceSelect.value = params.get("device") || "";
  }

  // Export and report links for the device and date range in the toolbar.
  function rangeLinks() {
    const range = {
      device: deviceSelect.value || null,
      since: document.getElementById("since").value || null,
      until: document.getElementById("until").value || null,
      tz_offset_min: -new Date().getTimezoneOffset(),
    };
    document.getElementById("range-csv").href = `/api/export/range?${query({ ...range, format: "csv" })}`;
    document.getElementById("range-json").href = `/api/export/range?${query({ ...range, format: "json" })}`;
    document.getElementById("range-report").href = `/report?${query(range)}`;
  }

  async function main() {
    try {
      await loadDevices();
      rangeLinks();
      const session = params.get("session");
      if (session) {
        await showDetail(params.get("device") || "", session);
      } else {
        const device = deviceSelect.value || null;
        await Promise.all([showTrends(device), showSessions(device)]);
      }
      document.body.dataset.ready = "1";
    } catch (err) {
      status.textContent = `error: ${err.message}`;
      status.className = "conn down";
    }
  }

  deviceSelect.addEventListener("change", () => {
    location.search = query({ device: deviceSelect.value || null });
  });
  for (const id of ["since", "until"]) document.getElementById(id).addEventListener("change", rangeLinks);
  weeksSelect.addEventListener("change", () => showTrends(deviceSelect.value || null));
  main();
})();
