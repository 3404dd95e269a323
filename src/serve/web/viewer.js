// The one-patient page of `cervirisk serve`: the token, a form built from the bundle's clinical
// schema, the prediction, and the MRI with the mask and the model's map in NiiVue.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let models = [];
  let nv = null;
  let maps = {};
  let imageUrl = null, maskUrl = null;
  const auth = () => ({ Authorization: "Bearer " + $("token").value.trim() });

  function showError(msg) { $("error").textContent = msg || ""; }

  async function api(path, options) {
    const r = await fetch(path, Object.assign({ headers: auth() }, options || {}));
    if (!r.ok) {
      let msg = r.status + " " + r.statusText;
      try { const j = await r.json(); msg = r.status + ": " + j.error + (j.field ? " (" + j.field + ")" : ""); } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    return r;
  }

  // Shapley values as horizontal bars around 0 (red raises the probability, blue lowers it).
  function bars(title, values, expected) {
    if (!values) return "";
    const entries = Object.entries(values).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
    const max = Math.max(1e-9, ...entries.map((e) => Math.abs(e[1])));
    const esc = (t) => String(t).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
    return "<div class='note' style='margin-top:8px'>" + esc(title) + " (from the training cohort's average " +
      expected.toFixed(3) + ")</div><table>" + entries.map(([k, v]) => {
        const w = Math.round(100 * Math.abs(v) / max);
        return "<tr><td style='width:38%'>" + esc(k) + "</td><td><div style='height:10px;width:" + w + "%;background:" +
          (v >= 0 ? "#c0392b" : "#2e6db4") + "'></div></td><td style='width:18%;text-align:right'>" +
          (v >= 0 ? "+" : "") + v.toFixed(4) + "</td></tr>";
      }).join("") + "</table>";
  }

  function current() { return models.find((m) => m.variant === $("model").value); }

  function buildForm() {
    const m = current();
    const box = $("clinical");
    box.innerHTML = "";
    $("banner").style.display = m && m.synthetic ? "block" : "none";
    if (!m) return;
    $("model-line").textContent = m.variant + " · trained on " + m.training_cohort.n + " patients (" +
      m.training_cohort.events + " recurrences) · threshold " + m.threshold.toFixed(3);
    $("report").disabled = m.modalities.indexOf("report") < 0;
    if (m.clinical.length) {
      const h = document.createElement("label");
      h.textContent = "Clinical data (leave empty when unknown)";
      box.appendChild(h);
    }
    const grid = document.createElement("div");
    grid.className = "row";
    for (const c of m.clinical) {
      const cell = document.createElement("div");
      const l = document.createElement("label");
      l.textContent = c.name;
      l.htmlFor = "clin-" + c.name;
      let input;
      if (c.levels && c.levels.length) {
        input = document.createElement("select");
        input.appendChild(new Option("(unknown)", ""));
        for (const v of c.levels) input.appendChild(new Option(v, v));
      } else {
        input = document.createElement("input");
        input.type = "number";
        input.step = "any";
      }
      input.id = "clin-" + c.name;
      input.dataset.column = c.name;
      cell.appendChild(l);
      cell.appendChild(input);
      grid.appendChild(cell);
    }
    box.appendChild(grid);
    const card = $("card");
    card.innerHTML = "<div class='note'>Model card</div><table>" +
      [["variant", m.variant], ["preset", m.preset], ["modalities", m.modalities.join(", ")],
       ["training cohort", m.training_cohort.n + " patients, " + m.training_cohort.events + " recurrences"],
       ["threshold (probability)", m.threshold.toFixed(4)], ["risk cut-point (logit)", m.cutpoint.toFixed(4)],
       ["recalibration", m.recalibration], ["data", m.synthetic ? "SYNTHETIC" : "as trained"]]
        .map((r) => "<tr><td>" + r[0] + "</td><td>" + r[1] + "</td></tr>").join("") +
      "</table><div class='note'>Research use only; not a medical device.</div>";
  }

  async function connect() {
    showError("");
    try {
      const r = await api("/v1/models");
      models = (await r.json()).models;
      const sel = $("model");
      sel.innerHTML = "";
      for (const m of models) sel.appendChild(new Option(m.variant, m.variant));
      const final = models.find((m) => m.variant === "msm_tc");
      if (final) sel.value = "msm_tc";
      sessionStorage.setItem("cervirisk-token", $("token").value.trim());
      buildForm();
      $("predict").disabled = false;
    } catch (e) { showError(e.message); }
  }

  function volumeName(file, fallback) {
    const n = file.name.toLowerCase();
    if (n.endsWith(".nii.gz") || n.endsWith(".nii") || n.endsWith(".nrrd") || n.endsWith(".mha")) return n;
    return fallback;
  }

  async function showVolumes(mapName) {
    if (typeof niivue === "undefined") {
      showError("The image viewer (NiiVue) is not installed on this server: run scripts/install-deps and rebuild.");
      document.body.dataset.viewerReady = "1";
      return;
    }
    if (!nv) {
      nv = new niivue.Niivue({ backColor: [0, 0, 0, 1], show3Dcrosshair: false, isColorbar: false });
      await nv.attachToCanvas($("viewer"));
      window.cerviriskViewer = nv;  // for the browser test (tests/browser/viewer.mjs)
    }
    const vols = [];
    const image = $("image").files[0], mask = $("mask").files[0];
    const niftiImage = image && !image.name.toLowerCase().endsWith(".zip");
    if (niftiImage) {
      if (imageUrl) URL.revokeObjectURL(imageUrl);
      imageUrl = URL.createObjectURL(image);
      vols.push({ url: imageUrl, name: volumeName(image, "image.nii.gz"), colormap: "gray" });
      if (mask && /\.nii(\.gz)?$/i.test(mask.name)) {
        if (maskUrl) URL.revokeObjectURL(maskUrl);
        maskUrl = URL.createObjectURL(mask);
        vols.push({ url: maskUrl, name: volumeName(mask, "mask.nii.gz"), colormap: "red", opacity: 0.35 });
      }
    }
    if (mapName && maps[mapName]) {
      const r = await api(maps[mapName]);
      const url = URL.createObjectURL(await r.blob());
      vols.push({ url: url, name: mapName, colormap: "warm", opacity: niftiImage ? 0.45 : 1.0, cal_min: 0.2, cal_max: 1.0 });
    }
    if (vols.length) {
      await nv.loadVolumes(vols);
      nv.setSliceType(nv.sliceTypeMultiplanar);
    }
    document.body.dataset.viewerReady = "1";
  }

  async function predict(ev) {
    ev.preventDefault();
    showError("");
    document.body.dataset.viewerReady = "0";
    $("predict").disabled = true;
    const m = current();
    const fd = new FormData();
    fd.append("image", $("image").files[0]);
    fd.append("mask", $("mask").files[0]);
    if (!$("report").disabled && $("report").value.trim()) fd.append("report", new Blob([$("report").value]), "report.txt");
    const clinical = {};
    let any = false;
    for (const el of $("clinical").querySelectorAll("[data-column]")) {
      if (el.value === "") { clinical[el.dataset.column] = null; continue; }
      clinical[el.dataset.column] = el.type === "number" ? Number(el.value) : el.value;
      any = true;
    }
    if (any) fd.append("clinical", new Blob([JSON.stringify(clinical)]), "clinical.json");
    fd.append("explain", "1");
    try {
      const r = await api("/v1/models/" + m.variant + "/predict", { method: "POST", body: fd, headers: auth() });
      const p = await r.json();
      $("probability").textContent = p.probability.toFixed(6);
      $("probability").dataset.value = String(p.probability);
      $("risk").innerHTML = "<span class='" + p.risk_group + "'>" + p.risk_group + " risk</span> · " +
        (p.probability >= p.threshold ? "above" : "below") + " the decision threshold " + p.threshold.toFixed(3);
      $("facts").innerHTML = [["logit", p.logit.toFixed(4)], ["risk cut-point (logit)", p.cutpoint.toFixed(4)],
        ["modalities used", p.modalities_present.join(", ")], ["request", p.request_id]]
        .map((r) => "<tr><td>" + r[0] + "</td><td>" + r[1] + "</td></tr>").join("");
      $("shap").innerHTML = bars("What moved the probability, by modality", p.modality_shap, p.modality_expected) +
        bars("Clinical values (KernelSHAP)", p.clinical_shap, p.clinical_expected);
      maps = {};
      const sel = $("map");
      sel.innerHTML = "";
      for (const [name, url] of Object.entries(p.maps || {}))
        if (name.endsWith(".nii.gz")) { maps[name] = url; sel.appendChild(new Option(name.replace(".nii.gz", ""), name)); }
      const tumour = Object.keys(maps).find((n) => n.indexOf("tumour") >= 0);
      if (tumour) sel.value = tumour;
      await showVolumes(sel.value);
    } catch (e) {
      showError(e.message);
    } finally {
      $("predict").disabled = false;
    }
  }

  $("connect").addEventListener("click", connect);
  $("model").addEventListener("change", buildForm);
  $("form").addEventListener("submit", predict);
  $("map").addEventListener("change", () => showVolumes($("map").value).catch((e) => showError(e.message)));
  const saved = sessionStorage.getItem("cervirisk-token");
  if (saved) { $("token").value = saved; connect(); }
})();
