// History: weekly trends, sessions by day, one session's sets and reps, exports.
"use strict";

(() => {
  const { el, fmt, getJSON, query, renderBars, legend } = HR;
  const params = new URLSearchParams(location.search);
  const deviceSelect = document.getElementById("device");
  const weeksSelect = document.getElementById("weeks");
  const status = document.getElementById("conn");

  function chart(box, title, opts, data) {
    const wrap = el("div", "chart");
    wrap.append(el("h3", "", title));
    const slot = el("div");
    wrap.append(slot);
    box.append(wrap);
    const width = Math.max(300, (box.clientWidth || 1000) / 2 - 40);
    return new uPlot({ width, height: 200, ...opts }, data, slot);
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
      "Tempo consistency (rep time spread %, lower is steadier)",
      { series: [{}, line("spread %", "#7b5fc7"), line("off target s", "#c0392b")] },
      [x, col("tempo_cv_pct"), col("tempo_dev_s")],
    );
    chart(
      box,
      "Endurance test (best reps; heel-height decline %)",
      { series: [{}, line("reps", "#2f7fd1"), line("decline %", "#c0392b")] },
      [x, col("endurance_reps"), col("endurance_decline_pct")],
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
      for (const h of ["Time", "Device", "Session", "Sets", "Reps", "Heel (mm)", "Endurance"]) {
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
        tr.append(cell, el("td", "", s.set_count), el("td", "reps", s.rep_count));
        tr.append(el("td", "", fmt(s.mean_heel_rise_mm)), el("td", "", endurance));
        tr.addEventListener("click", (e) => {
          if (e.target !== link) location.href = link.href;
        });
        body.append(tr);
      }
      table.append(body);
      section.append(table);
      box.append(section);
    }
  }

  async function showDetail(device, session) {
    document.getElementById("overview").hidden = true;
    document.getElementById("detail").hidden = false;
    const d = await getJSON(`/api/session?${query({ device, session })}`);
    document.getElementById("detail-title").textContent = `${d.device} · ${d.session}`;
    const started = new Date(d.started_at).toLocaleString();
    const meta = `${started} · ${d.set_count} sets · ${d.rep_count} reps` +
      (d.endurance ? ` · endurance ${d.endurance.reps} reps, decline ${fmt(d.endurance.decline_pct)} %` : "");
    document.getElementById("detail-meta").textContent = meta;
    const key = { device: d.device, session: d.session };
    document.getElementById("export-csv").href = `/api/export?${query({ ...key, format: "csv" })}`;
    document.getElementById("export-json").href = `/api/export?${query({ ...key, format: "json" })}`;

    const reps = d.sets.flatMap((s) => s.reps);
    const x = reps.map((_, i) => i + 1);
    const col = (k) => reps.map((r) => r[k]);
    const line = (label, stroke) => ({ label, stroke, width: 2, points: { show: true } });
    const noTime = { x: { time: false } };
    const heelBox = document.getElementById("chart-heel");
    const phaseBox = document.getElementById("chart-phases");
    heelBox.replaceChildren();
    phaseBox.replaceChildren();
    const width = Math.max(300, (document.querySelector("main").clientWidth || 1000) / 2 - 50);
    new uPlot(
      { width, height: 200, scales: noTime, series: [{ label: "rep" }, line("heel mm", "#2a9d6e")] },
      [x, col("heel_rise_mm")],
      heelBox,
    );
    new uPlot(
      {
        width,
        height: 200,
        scales: noTime,
        series: [
          { label: "rep" },
          line("rise", "#2f7fd1"),
          line("hold", "#7b5fc7"),
          line("lower", "#2a9d6e"),
          line("pause", "#8a949e"),
        ],
      },
      [x, col("raise_s"), col("top_hold_s"), col("lower_s"), col("bottom_hold_s")],
      phaseBox,
    );

    const sets = document.getElementById("sets");
    sets.replaceChildren();
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
        tr.append(
          el("td", "", r.index),
          el("td", "", fmt(r.raise_s, 2)),
          el("td", "", fmt(r.top_hold_s, 2)),
          el("td", "", fmt(r.lower_s, 2)),
          el("td", "", fmt(r.bottom_hold_s, 2)),
          el("td", "", fmt(r.heel_rise_mm)),
          el("td", "", fmt(r.peak_deg)),
          el("td", "", fmt(r.roll_deg)),
          el("td", "wrap", (r.faults || []).join(", ")),
        );
        body.append(tr);
      }
      table.append(body);
      section.append(table, legend());
      const list = el("ol", "bars");
      renderBars(list, s.reps);
      section.append(list);
      sets.append(section);
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

  async function main() {
    try {
      await loadDevices();
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
  weeksSelect.addEventListener("change", () => showTrends(deviceSelect.value || null));
  main();
})();
