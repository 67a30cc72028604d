// Live view: one card per device (per shoe of a pair: two cards side by side), fed by
// /api/live (snapshot) then /api/stream (SSE).
"use strict";

(() => {
  const { el, fmt, getJSON, renderBars, legend, plot, phaseLabel, sideName, symmetryBox } = HR;
  const TRACE_S = 10;
  const root = document.getElementById("devices");
  const conn = document.getElementById("conn");
  const cards = new Map(); // [device, side] key -> Card (never looked up through a CSS selector)
  const key = (device, side) => JSON.stringify([device, side || null]);

  class Card {
    constructor(device, side) {
      this.device = device;
      this.side = side || null;
      this.session = null;
      this.set = 0;
      this.reps = new Map(); // rep index -> rep of the current set
      this.state = null;
      this.earlierReps = 0; // reps of this session's earlier sets, from the snapshot
      this.seen = new Set(); // "set:index" of every rep of this session seen here
      this.trace = { t: [], p: [] };
      this.plot = null;
      this.drawQueued = false;
      const node = document.getElementById("device-card").content.firstElementChild.cloneNode(true);
      node.dataset.device = device;
      if (this.side) node.dataset.side = this.side;
      this.node = node;
      this.part("name").textContent = device;
      const badge = this.part("side");
      badge.hidden = !this.side;
      badge.textContent = this.side ? `${sideName(this.side)} shoe` : "";
      this.part("legend-slot").replaceWith(legend());
      root.append(node);
      document.getElementById("empty").hidden = true;
    }

    part(cls) {
      return this.node.querySelector(`.${cls}`);
    }

    // Durable events (reps) and snapshots (state) reach the page by different paths,
    // so they may arrive in either order; nothing here depends on which comes first.
    startSet(session, set) {
      if (session !== this.session) {
        this.earlierReps = 0;
        this.seen.clear();
        this.endedAt = null;
      }
      this.session = session;
      this.set = set;
      this.reps.clear();
    }

    snapshot(d) {
      if (d.status) this.onStatus(d.status);
      const cur = this.side ? sideCurrent(d.current, this.side) : d.current;
      if (cur) {
        this.startSet(cur.session, cur.set);
        for (const r of cur.reps) {
          this.reps.set(r.index, r);
          this.seen.add(`${r.set}:${r.index}`);
        }
        this.earlierReps = cur.session_rep_count - cur.reps.length;
      }
      const st = this.side ? (d.sides || {})[this.side] : { state: d.state, at: d.state_at };
      if (st && st.state) this.onState(cur ? cur.session : null, st.state, st.at);
      if (d.health) this.onHealth(d.health);
      if (cur && cur.ended_at) this.onSession(cur.session, cur.ended_at, d.current.session_sides, d.current.symmetry);
      if (d.trace && d.trace.t_s.length) this.onLive(d.trace.t_s, d.trace.pitch_deg, null);
      this.render();
    }

    onRep(session, rep) {
      if (session !== this.session || rep.set !== this.set) {
        if (session === this.session && rep.set < this.set) {
          this.seen.add(`${rep.set}:${rep.index}`); // a late rep of an earlier set: count only
          this.render();
          return;
        }
        this.startSet(session, rep.set);
      }
      this.seen.add(`${rep.set}:${rep.index}`);
      this.reps.set(rep.index, rep);
      this.render();
    }

    onSet(session, set) {
      if (session !== this.session || set.index !== this.set) return;
      for (const r of set.reps || []) this.reps.set(r.index, r); // final: pauses filled in
      this.part("set").textContent = `${set.index} (done)`;
      this.render(false);
    }

    onSession(session, time, sides, symmetry) {
      if (session !== this.session) return;
      this.endedAt = time;
      this.part("phase").textContent = "session ended";
      // a pair's session: both shoes' totals and their LSIs, on each shoe's card
      const box = this.part("symmetry-slot");
      box.replaceChildren();
      if (this.side && sides && Object.keys(sides).length) box.append(symmetryBox(sides, symmetry));
    }

    onState(session, state, time) {
      // A state sent before the session ended may arrive after it: it is stale then.
      if (session === this.session && this.endedAt && time && time <= this.endedAt) return;
      this.state = state;
      if (session && (session !== this.session || state.set > this.set)) {
        this.startSet(session, state.set);
      }
      if (this.status !== "offline") {
        this.part("phase").textContent = phaseLabel(state.phase);
        this.part("phase").dataset.phase = state.phase;
      }
      this.part("tempo").textContent = state.tempo || "none";
      this.render();
    }

    onHealth(health) {
      // The device's sensor is stuck, all zeros or failing: its missing reps are explained.
      const badge = this.part("trouble");
      badge.hidden = health.healthy;
      badge.title = health.healthy ? "" : health.reason || "";
    }

    onStatus(status) {
      this.status = status;
      const badge = this.part("status");
      badge.textContent = status;
      badge.className = `status ${status === "online" ? "online" : "offline"}`;
      if (status !== "online") {
        // Gone: its last phase is no longer true.
        this.part("phase").textContent = status === "offline" ? "offline" : "–";
        delete this.part("phase").dataset.phase;
      }
    }

    onLive(ts, pitch, phase) {
      this.trace.t.push(...ts);
      this.trace.p.push(...pitch);
      const last = this.trace.t[this.trace.t.length - 1];
      let cut = 0;
      while (cut < this.trace.t.length && last - this.trace.t[cut] > TRACE_S) cut += 1;
      if (cut) {
        this.trace.t.splice(0, cut);
        this.trace.p.splice(0, cut);
      }
      if (phase) {
        this.part("phase").textContent = phaseLabel(phase);
        this.part("phase").dataset.phase = phase;
      }
      if (!this.drawQueued) {
        this.drawQueued = true;
        requestAnimationFrame(() => this.drawTrace());
      }
    }

    drawTrace() {
      this.drawQueued = false;
      const data = [this.trace.t.slice(), this.trace.p.slice()];
      if (!this.plot) {
        this.plot = plot(
          this.part("trace"),
          {
            height: 220,
            legend: { show: false },
            cursor: { show: false },
            scales: { x: { time: false } },
            axes: [
              {
                label: "sensor time (s)",
                space: 70,
                values: (u, splits) => splits.map((v) => String(Math.round(v * 10) / 10)),
              },
              { label: "pitch (°)", space: 28, grid: { stroke: "#e4e8ec" } },
            ],
            series: [{}, { label: "pitch", stroke: "#2f7fd1", width: 2 }],
          },
          data,
        );
      } else {
        this.plot.setData(data);
      }
    }

    render(updateSetLabel = true) {
      const reps = [...this.reps.values()].sort((a, b) => a.index - b.index);
      let count = reps.length;
      const s = this.state;
      if (s && s.set === this.set) count = Math.max(count, s.reps_in_set);
      this.part("reps").textContent = String(count);
      if (updateSetLabel) this.part("set").textContent = this.set ? String(this.set) : "–";
      this.part("session").textContent = this.session ?? "–";
      const counted = this.earlierReps + this.seen.size;
      const total = s ? Math.max(s.rep_count, counted) : counted;
      this.part("total").textContent = String(total);
      renderBars(this.part("bars"), reps);
    }
  }

  // A shoe's part of the device snapshot's current set (its own latest set and reps).
  function sideCurrent(cur, side) {
    if (!cur) return null;
    const own = (cur.sides || {})[side];
    const base = { session: cur.session, ended_at: cur.ended_at, interrupted: cur.interrupted };
    return own ? { ...base, ...own } : { ...base, set: 0, reps: [], session_rep_count: 0 };
  }

  function card(device, side) {
    let c = cards.get(key(device, side));
    if (!c) {
      c = new Card(device, side);
      cards.set(key(device, side), c);
      const unnamed = cards.get(key(device, null));
      if (side && unnamed && !unnamed.session) {
        // a pair's status came before its shoes: the placeholder card gives way to them
        if (unnamed.status) c.onStatus(unnamed.status);
        unnamed.node.remove();
        cards.delete(key(device, null));
      }
    }
    return c;
  }

  // Every card of a device (both shoes of a pair); a new one if it has none yet.
  function deviceCards(device) {
    const list = [...cards.values()].filter((c) => c.device === device);
    return list.length ? list : [card(device, null)];
  }

  // Messages the ingest refused (bad JSON, schema, size...), per device and kind.
  const refused = new Map(); // key -> {device, kind, count, reason}
  function refuse(device, kind, count, reason) {
    const key = JSON.stringify([device, kind]);
    const row = refused.get(key) || { device, kind, count: 0, reason: "" };
    row.count = count ?? row.count + 1;
    if (reason) row.reason = reason;
    refused.set(key, row);
    const box = document.getElementById("refused");
    box.hidden = false;
    box.querySelector("tbody").replaceChildren(
      ...[...refused.values()].map((r) => {
        const tr = el("tr", "refused-row");
        tr.append(
          el("td", "wrap device", r.device ?? "?"),
          el("td", "", r.kind),
          el("td", "", r.count),
          el("td", "wrap", r.reason),
        );
        return tr;
      }),
    );
  }

  function listen(cursor) {
    const source = new EventSource(`/api/stream?after=${encodeURIComponent(cursor)}`);
    // rep, set and state belong to one shoe; the others to the device (all its cards)
    const on = (name, fn) =>
      source.addEventListener(name, (e) => {
        const d = JSON.parse(e.data);
        fn(card(d.device, d.side), d);
      });
    const onDevice = (name, fn) =>
      source.addEventListener(name, (e) => {
        const d = JSON.parse(e.data);
        for (const c of deviceCards(d.device)) fn(c, d);
      });
    on("rep", (c, d) => c.onRep(d.session, d.rep));
    on("set", (c, d) => c.onSet(d.session, d.set));
    onDevice("session", (c, d) => c.onSession(d.session, d.time, d.sides, d.symmetry));
    on("state", (c, d) => c.onState(d.session, d.state, d.time));
    onDevice("health", (c, d) => c.onHealth(d.health));
    onDevice("status", (c, d) => c.onStatus(d.status));
    // one pitch trace per device: the first card of it draws it
    onDevice("live", (c, d) => c === deviceCards(d.device)[0] && c.onLive(d.t_s, d.pitch_deg, d.phase));
    source.addEventListener("refused", (e) => {
      const d = JSON.parse(e.data);
      refuse(d.device, d.kind, null, d.reason);
    });
    source.onopen = () => {
      conn.textContent = "live";
      conn.className = "conn up";
    };
    source.onerror = () => {
      conn.textContent = "reconnecting…";
      conn.className = "conn down";
    };
  }

  async function main() {
    try {
      const snap = await getJSON("/api/live");
      for (const d of snap.devices) {
        const sides = Object.keys(d.sides || {}).sort();
        if (sides.length) for (const side of sides) card(d.device, side).snapshot(d);
        else card(d.device, null).snapshot(d);
      }
      for (const r of snap.refused) refuse(r.device, r.kind, r.count, "");
      listen(snap.cursor);
    } catch (err) {
      conn.textContent = `error: ${err.message}`;
      conn.className = "conn down";
    }
  }

  main();
  window.heelraiseLive = { cards, fmt, el }; // for debugging from the console
})();
