/* mlp_explore(): the article's network, interactive.
 *
 * The page trains the article's network itself, in double precision, by
 * iteration() below: a transcription of one epoch in the article's twelve
 * steps, under the article's names, in its order. The starting weights come
 * from R (drawn there by mlp_train()'s path), so the page's numbers are
 * mlp_trace()'s and mlp_train()'s. Plain ES5; no library, no network. */
(function () {
  'use strict';

  // ---- Every JavaScript error of the page, written into the DOM ----------
  // (<pre class="bpx-errors">, which the tests read from the dumped DOM).
  var errors = [];
  function showErrors() {
    var pres = document.querySelectorAll('pre.bpx-errors');
    for (var i = 0; i < pres.length; i++) pres[i].textContent = JSON.stringify(errors);
  }
  function recordError(message) {
    errors.push(String(message));
    showErrors();
  }
  window.addEventListener('error', function (e) {
    recordError((e.message || 'error') + (e.filename ? ' (' + e.filename.slice(-40) + ':' + e.lineno + ')' : ''));
  });
  window.addEventListener('unhandledrejection', function (e) {
    recordError('unhandled rejection: ' + (e.reason && e.reason.message ? e.reason.message : e.reason));
  });

  // ---- Activations: backprop's Rust definitions (src/rust/src/activation.rs)
  var LEAKY_RELU_SLOPE = 0.01;
  var SELU_LAMBDA = 1.0507009873554805, SELU_ALPHA = 1.6732632423543773;
  var GELU_C = 0.7978845608028654, GELU_K = 0.044715;
  function sigmoid(z) { return 1 / (1 + Math.exp(-z)); }
  function softplus(z) { return Math.max(z, 0) + Math.log(1 + Math.exp(-Math.abs(z))); }
  // f: the activation of u; slope: its derivative at input u with output a;
  // text: the derivative with its numbers, for the formulas.
  var ACT = {
    sigmoid: { f: sigmoid, slope: function (u, a) { return a * (1 - a); },
      def: '1 / (1 + e^(-u))', text: function (u, a) { return fmt(a) + ' × (1 − ' + fmt(a) + ')'; } },
    tanh: { f: Math.tanh, slope: function (u, a) { return 1 - a * a; },
      def: 'tanh(u)', text: function (u, a) { return '1 − ' + fmtp(a) + '²'; } },
    relu: { f: function (u) { return Math.max(u, 0); }, slope: function (u, a) { return a > 0 ? 1 : 0; },
      def: 'max(u, 0)', text: function (u, a) { return a > 0 ? '1 (a > 0)' : '0 (a ≤ 0)'; } },
    leaky_relu: { f: function (u) { return u > 0 ? u : LEAKY_RELU_SLOPE * u; },
      slope: function (u, a) { return a > 0 ? 1 : LEAKY_RELU_SLOPE; },
      def: 'u > 0 ? u : 0.01 u', text: function (u, a) { return a > 0 ? '1 (a > 0)' : '0.01 (a ≤ 0)'; } },
    linear: { f: function (u) { return u; }, slope: function () { return 1; },
      def: 'u', text: function () { return '1'; } },
    softplus: { f: softplus, slope: function (u, a) { return 1 - Math.exp(-a); },
      def: 'ln(1 + e^u)', text: function (u, a) { return '1 − e^(−' + fmtp(a) + ')'; } },
    elu: { f: function (u) { return u > 0 ? u : Math.exp(u) - 1; }, slope: function (u, a) { return a > 0 ? 1 : a + 1; },
      def: 'u > 0 ? u : e^u − 1', text: function (u, a) { return a > 0 ? '1 (a > 0)' : fmt(a) + ' + 1'; } },
    selu: { f: function (u) { return u > 0 ? SELU_LAMBDA * u : (SELU_LAMBDA * SELU_ALPHA) * (Math.exp(u) - 1); },
      slope: function (u, a) { return a > 0 ? SELU_LAMBDA : a + SELU_LAMBDA * SELU_ALPHA; },
      def: 'u > 0 ? λu : λα(e^u − 1)', text: function (u, a) { return a > 0 ? 'λ = 1.0507 (a > 0)' : fmt(a) + ' + λα'; } },
    gelu: { f: function (u) { return 0.5 * u * (1 + Math.tanh(GELU_C * (u + GELU_K * u * u * u))); },
      slope: function (u) {
        var u2 = u * u, t = Math.tanh(GELU_C * (u + GELU_K * u2 * u)), dinner = GELU_C * (1 + (3 * GELU_K) * u2);
        return 0.5 * (1 + t) + 0.5 * u * (1 - t * t) * dinner;
      },
      def: '0.5 u (1 + tanh(√(2/π) (u + 0.044715 u³)))', text: function (u) { return 'gelu′(u = ' + fmt(u) + ')'; } },
    silu: { f: function (u) { return u / (1 + Math.exp(-u)); },
      slope: function (u) { var s = 1 / (1 + Math.exp(-u)); return s * (1 + u * (1 - s)); },
      def: 'u · sigmoid(u)', text: function (u) { return 's (1 + u (1 − s)), s = sigmoid(' + fmt(u) + ')'; } },
    mish: { f: function (u) { return u * Math.tanh(softplus(u)); },
      slope: function (u) {
        var t = Math.tanh(softplus(u)), s = 1 / (1 + Math.exp(-u));
        return t + u * (1 - t * t) * s;
      },
      def: 'u · tanh(ln(1 + e^u))', text: function (u) { return 'mish′(u = ' + fmt(u) + ')'; } }
  };

  // ---- Matrices: rows, columns and values row by row --------------------
  function mat(r, c) { return { r: r, c: c, v: new Float64Array(r * c) }; }
  function copyMat(m) { return { r: m.r, c: m.c, v: new Float64Array(m.v) }; }
  function fromR(m) {
    var out = mat(m.rows, m.cols);
    for (var k = 0; k < out.v.length; k++) out.v[k] = parseFloat(m.data[k]);
    return out;
  }
  function rowsOf(m) {
    var out = [];
    for (var i = 0; i < m.r; i++) out.push(Array.prototype.slice.call(m.v, i * m.c, (i + 1) * m.c));
    return out;
  }
  function copyParams(p) { return { wh: copyMat(p.wh), bh: copyMat(p.bh), wout: copyMat(p.wout), bout: copyMat(p.bout) }; }

  // ---- One epoch of the article's network: its twelve steps --------------
  // `p` holds wh, bh, wout and bout and is updated in place (steps 11 and
  // 12). Steps 1 and 2 (the data, the starting weights) are `data` and `p`.
  // With `keep`, every matrix of the steps is returned; otherwise the loss of
  // the forward pass. With bias = "row" (bh and bout one row per training
  // row, the R program) each row's bias grows by the sum of its row's delta;
  // with "column" (the NumPy program) each bias by its column's sum.
  // `ws`, when given, holds the matrices' storage from one epoch to the next.
  function iteration(p, data, cfg, keep, ws) {
    var n = data.n, d = data.d, o = data.o, h = p.wh.c;
    var X = data.X.v, y = data.Y.v, wh = p.wh.v, bh = p.bh.v, wout = p.wout.v, bout = p.bout.v;
    var rowBias = p.bh.r > 1 || (n === 1 && cfg.bias === 'row');
    var act = ACT[cfg.activation], outAct = ACT[cfg.output], lr = cfg.lr;
    var factor = cfg.loss === 'mse' ? 2 / o : 1;
    var start = keep ? copyParams(p) : null;
    var i, j, k, s;
    function buf(name, length) {
      if (keep || !ws) return new Float64Array(length);
      if (!ws[name] || ws[name].length !== length) ws[name] = new Float64Array(length);
      return ws[name];
    }

    // Step 3: hidden_layer_input = matrix_dot_product(X, wh) + bh
    var hidden_layer_input = buf('hidden_layer_input', n * h);
    for (i = 0; i < n; i++) for (j = 0; j < h; j++) {
      s = 0;
      for (k = 0; k < d; k++) s += X[i * d + k] * wh[k * h + j];
      hidden_layer_input[i * h + j] = s + bh[(rowBias ? i : 0) * h + j];
    }
    // Step 4: hiddenlayer_activations = sigmoid(hidden_layer_input)
    var hiddenlayer_activations = buf('hiddenlayer_activations', n * h);
    for (k = 0; k < n * h; k++) hiddenlayer_activations[k] = act.f(hidden_layer_input[k]);
    // Step 5: output_layer_input = matrix_dot_product(hiddenlayer_activations, wout) + bout
    //         output = sigmoid(output_layer_input)
    var output_layer_input = buf('output_layer_input', n * o), output = buf('output', n * o);
    for (i = 0; i < n; i++) for (j = 0; j < o; j++) {
      s = 0;
      for (k = 0; k < h; k++) s += hiddenlayer_activations[i * h + k] * wout[k * o + j];
      output_layer_input[i * o + j] = s + bout[(rowBias ? i : 0) * o + j];
      output[i * o + j] = outAct.f(output_layer_input[i * o + j]);
    }
    // Step 6: E = y - output (and the loss: the sum of squared errors, or their mean)
    var E = buf('E', n * o), sse = 0;
    for (k = 0; k < n * o; k++) {
      E[k] = y[k] - output[k];
      sse += E[k] * E[k];
    }
    // Step 7: slope_output_layer = derivatives_sigmoid(output)
    //         slope_hidden_layer = derivatives_sigmoid(hiddenlayer_activations)
    var slope_output_layer = buf('slope_output_layer', n * o), slope_hidden_layer = buf('slope_hidden_layer', n * h);
    for (k = 0; k < n * o; k++) slope_output_layer[k] = outAct.slope(output_layer_input[k], output[k]);
    for (k = 0; k < n * h; k++) slope_hidden_layer[k] = act.slope(hidden_layer_input[k], hiddenlayer_activations[k]);
    // Step 8: d_output = E * slope_output_layer (the mean squared error: E * 2/o * slope)
    var d_output = buf('d_output', n * o);
    for (k = 0; k < n * o; k++) d_output[k] = E[k] * factor * slope_output_layer[k];
    // Step 9: Error_at_hidden_layer = matrix_dot_product(d_output, wout.Transpose)
    var Error_at_hidden_layer = buf('Error_at_hidden_layer', n * h);
    for (i = 0; i < n; i++) for (j = 0; j < h; j++) {
      s = 0;
      for (k = 0; k < o; k++) s += d_output[i * o + k] * wout[j * o + k];
      Error_at_hidden_layer[i * h + j] = s;
    }
    // Step 10: d_hiddenlayer = Error_at_hidden_layer * slope_hidden_layer
    var d_hiddenlayer = buf('d_hiddenlayer', n * h);
    for (k = 0; k < n * h; k++) d_hiddenlayer[k] = Error_at_hidden_layer[k] * slope_hidden_layer[k];
    // Step 11: wout = wout + matrix_dot_product(hiddenlayer_activations.Transpose, d_output) * learning_rate
    //          wh = wh + matrix_dot_product(X.Transpose, d_hiddenlayer) * learning_rate
    for (i = 0; i < h; i++) for (j = 0; j < o; j++) {
      s = 0;
      for (k = 0; k < n; k++) s += hiddenlayer_activations[k * h + i] * d_output[k * o + j];
      wout[i * o + j] += s * lr;
    }
    for (i = 0; i < d; i++) for (j = 0; j < h; j++) {
      s = 0;
      for (k = 0; k < n; k++) s += X[k * d + i] * d_hiddenlayer[k * h + j];
      wh[i * h + j] += s * lr;
    }
    // Step 12: bh = bh + sum(d_hiddenlayer, axis=0) * learning_rate
    //          bout = bout + sum(d_output, axis=0) * learning_rate
    // (bias = "row": bh = bh + rowSums(d_hiddenlayer) * learning_rate, ...)
    updateBias(bh, d_hiddenlayer, n, h, rowBias, lr);
    updateBias(bout, d_output, n, o, rowBias, lr);

    var loss = cfg.loss === 'mse' ? sse / (n * o) : sse;
    if (!keep) return loss;
    function m(v, c) { return { r: v.length / c, c: c, v: v }; }
    return {
      X: data.X, Y: data.Y, wh: start.wh, bh: start.bh, wout: start.wout, bout: start.bout,
      hidden_layer_input: m(hidden_layer_input, h), hiddenlayer_activations: m(hiddenlayer_activations, h),
      output_layer_input: m(output_layer_input, o), output: m(output, o), E: m(E, o),
      slope_output_layer: m(slope_output_layer, o), slope_hidden_layer: m(slope_hidden_layer, h),
      d_output: m(d_output, o), Error_at_hidden_layer: m(Error_at_hidden_layer, h),
      d_hiddenlayer: m(d_hiddenlayer, h),
      'wout+': copyMat(p.wout), 'wh+': copyMat(p.wh), 'bh+': copyMat(p.bh), 'bout+': copyMat(p.bout),
      loss: loss, lr: lr, factor: factor, rowBias: rowBias
    };
  }

  function updateBias(b, delta, n, units, rowBias, lr) {
    var i, j, s;
    if (rowBias) {
      for (i = 0; i < n; i++) {
        s = 0;
        for (j = 0; j < units; j++) s += delta[i * units + j];
        for (j = 0; j < units; j++) b[i * units + j] += s * lr;
      }
    } else {
      for (j = 0; j < units; j++) {
        s = 0;
        for (i = 0; i < n; i++) s += delta[i * units + j];
        b[j] += s * lr;
      }
    }
  }

  // The network's output for new inputs (the decision surface; column layout).
  function predict(p, x, cfg) {
    var h = p.wh.c, o = p.wout.c, d = p.wh.r, act = ACT[cfg.activation], outAct = ACT[cfg.output];
    var out = new Float64Array(o), hid = new Float64Array(h), j, k, s;
    for (j = 0; j < h; j++) {
      s = 0;
      for (k = 0; k < d; k++) s += x[k] * p.wh.v[k * h + j];
      hid[j] = act.f(s + p.bh.v[j]);
    }
    for (j = 0; j < o; j++) {
      s = 0;
      for (k = 0; k < h; k++) s += hid[k] * p.wout.v[k * o + j];
      out[j] = outAct.f(s + p.bout.v[j]);
    }
    return out;
  }

  // ---- Training: every epoch, with the weights kept at checkpoints -------
  // (every epoch's while they fit in 4 million numbers; the weights of an
  // epoch between checkpoints are recomputed from the one before it, by the
  // same arithmetic, so they are the same numbers).
  function train(run) {
    var t0 = performance.now();
    var p = copyParams(run.start), E = run.cfg.epochs;
    var size = p.wh.v.length + p.bh.v.length + p.wout.v.length + p.bout.v.length;
    var stride = Math.max(1, Math.ceil(size * (E + 1) / 4e6));
    var snaps = new Float64Array(size * (Math.floor(E / stride) + 1));
    var loss = new Float64Array(E), ws = {};
    for (var k = 0; k < E; k++) {
      if (k % stride === 0) packParams(p, snaps, (k / stride) * size);
      loss[k] = iteration(p, run.data, run.cfg, false, ws);
    }
    run.size = size;
    run.stride = stride;
    run.snaps = snaps;
    run.loss = loss;
    run.final = p;
    run.ms = performance.now() - t0;
  }
  function packParams(p, into, at) {
    var parts = [p.wh.v, p.bh.v, p.wout.v, p.bout.v];
    for (var q = 0; q < 4; q++) { into.set(parts[q], at); at += parts[q].length; }
  }
  // The weights at the start of epoch k (after k updates).
  function weightsAt(run, k) {
    var p = copyParams(run.start), c = Math.floor(k / run.stride), at = c * run.size;
    var parts = [p.wh.v, p.bh.v, p.wout.v, p.bout.v];
    for (var q = 0; q < 4; q++) { parts[q].set(run.snaps.subarray(at, at + parts[q].length)); at += parts[q].length; }
    for (var e = c * run.stride, ws = {}; e < k; e++) iteration(p, run.data, run.cfg, false, ws);
    return p;
  }

  // ---- The article's twelve steps: names, formulas, matrices shown -------
  var STEPS = [
    { en: 'Read input and output', zh: '读取输入和输出', formula: 'X, Y', show: ['X', 'Y'], targets: [] },
    { en: 'Initialize weights and biases with random values', zh: '用随机值初始化权重和偏差',
      formula: 'wh, bh, wout, bout', show: ['wh', 'bh', 'wout', 'bout'], targets: [] },
    { en: 'Calculate hidden layer input', zh: '计算隐层输入',
      formula: 'hidden_layer_input = matrix_dot_product(X, wh) + bh',
      show: ['X', 'wh', 'bh', 'hidden_layer_input'], targets: ['hidden_layer_input'] },
    { en: 'Perform non-linear transformation on hidden linear input', zh: '对隐藏的线性输入进行非线性变换',
      formula: 'hiddenlayer_activations = {act}(hidden_layer_input)',
      show: ['hidden_layer_input', 'hiddenlayer_activations'], targets: ['hiddenlayer_activations'] },
    { en: 'Linear and non-linear transformation of hidden layer activation at output layer',
      zh: '在输出层执行隐层激活的线性和非线性变换',
      formula: 'output_layer_input = matrix_dot_product(hiddenlayer_activations, wout) + bout\noutput = {out}(output_layer_input)',
      show: ['hiddenlayer_activations', 'wout', 'bout', 'output_layer_input', 'output'],
      targets: ['output_layer_input', 'output'] },
    { en: 'Calculate gradient of error (E) at output layer', zh: '计算输出层的误差(E)梯度',
      formula: 'E = y − output', show: ['Y', 'output', 'E'], targets: ['E'] },
    { en: 'Compute slope at output and hidden layer', zh: '计算输出和隐藏层的斜率',
      formula: 'slope_output_layer = derivatives_{out}(output)\nslope_hidden_layer = derivatives_{act}(hiddenlayer_activations)',
      show: ['output', 'slope_output_layer', 'hiddenlayer_activations', 'slope_hidden_layer'],
      targets: ['slope_output_layer', 'slope_hidden_layer'] },
    { en: 'Compute delta at output layer', zh: '计算输出层的增量',
      formula: 'd_output = E * slope_output_layer', show: ['E', 'slope_output_layer', 'd_output'], targets: ['d_output'],
      note: { en: 'The article\'s spreadsheet also multiplies by the learning rate here; its code (and this page) does so in steps 11 and 12. The updated weights are the same.',
              zh: '原文的表格在这一步就乘以学习率;原文的代码(和本页)在步骤11和12中才乘。更新后的权重相同。' } },
    { en: 'Calculate error at hidden layer', zh: '计算隐藏层的误差',
      formula: 'Error_at_hidden_layer = matrix_dot_product(d_output, wout.Transpose)',
      show: ['d_output', 'wout', 'Error_at_hidden_layer'], targets: ['Error_at_hidden_layer'] },
    { en: 'Compute delta at hidden layer', zh: '计算隐藏层的增量',
      formula: 'd_hiddenlayer = Error_at_hidden_layer * slope_hidden_layer',
      show: ['Error_at_hidden_layer', 'slope_hidden_layer', 'd_hiddenlayer'], targets: ['d_hiddenlayer'] },
    { en: 'Update weight at both output and hidden layer', zh: '更新输出和隐藏层的权重',
      formula: 'wout = wout + matrix_dot_product(hiddenlayer_activations.Transpose, d_output) * learning_rate\nwh = wh + matrix_dot_product(X.Transpose, d_hiddenlayer) * learning_rate',
      show: ['hiddenlayer_activations', 'd_output', 'wout+', 'X', 'd_hiddenlayer', 'wh+'], targets: ['wout+', 'wh+'] },
    { en: 'Update biases at both output and hidden layer', zh: '更新输出和隐藏层的偏置量',
      formula: 'bh = bh + sum(d_hiddenlayer, axis=0) * learning_rate\nbout = bout + sum(d_output, axis=0) * learning_rate',
      rowFormula: 'bh = bh + rowSums(d_hiddenlayer) * learning_rate\nbout = bout + rowSums(d_output) * learning_rate',
      show: ['d_hiddenlayer', 'bh+', 'd_output', 'bout+'], targets: ['bh+', 'bout+'] }
  ];

  var TEXT = {
    en: { step: 'Step', epoch: 'Epoch', of: 'of', lr: 'Learning rate', hidden: 'Hidden units',
      activation: 'Hidden activation', output: 'Output', loss: 'Loss', play: 'Play', pause: 'Pause',
      reset: 'Reset', lang: '中文', langLabel: 'Show the page in Chinese',
      steps: 'The twelve steps', network: 'The network at this epoch', lossCurve: 'Loss by epoch',
      surface: 'Decision surface (first output)', data: 'Data: edit a cell of X or Y and the page retrains',
      active: 'active cell', inputs: 'cells that fed it', updated: ' (updated)',
      trained: function (e, ms) { return 'Trained ' + e + ' epochs in ' + ms.toFixed(1) + ' ms in this browser.'; },
      epochNote: 'Epoch k starts from the weights after k updates; epoch 0 is mlp_trace()\'s iteration.',
      hover: 'Point at or focus a yellow cell to see its formula with its numbers. Keys: ← → steps, ↑ ↓ epochs (Shift: 100).',
      rowSurface: 'The decision surface needs bias = "column": per-row biases predict no new points.',
      call: 'The same network in R:', edited: ' (with the X and Y edited here)',
      noseed: 'from the start R drew when mlp_explore() was called',
      lossAt: 'loss', network_label: 'Network diagram: edges coloured by sign (blue positive, vermilion negative) and sized by weight',
      invalid: 'not a finite number: not used' },
    zh: { step: '步骤', epoch: '迭代', of: '/', lr: '学习率', hidden: '隐藏层神经元', activation: '隐藏层激活函数',
      output: '输出层', loss: '损失', play: '播放', pause: '暂停', reset: '重置', lang: 'English',
      langLabel: 'Show the page in English',
      steps: '十二个步骤', network: '本次迭代的网络', lossCurve: '每次迭代的损失', surface: '决策面(第一个输出)',
      data: '数据:修改 X 或 Y 的单元格,页面会重新训练', active: '黄色填充的细胞代表当前活动细胞',
      inputs: '橙色单元格表示用于填充当前单元格值的输入', updated: '(更新后)',
      trained: function (e, ms) { return '在浏览器中训练 ' + e + ' 次迭代用时 ' + ms.toFixed(1) + ' 毫秒。'; },
      epochNote: '第 k 次迭代从 k 次更新后的权重开始;第 0 次即 mlp_trace() 的迭代。',
      hover: '把鼠标指向或聚焦黄色单元格,查看带数字的公式。按键:← → 步骤,↑ ↓ 迭代(Shift:100)。',
      rowSurface: '决策面需要 bias = "column":按行的偏置无法预测新的点。',
      call: '在 R 中的同一网络:', edited: '(使用本页修改后的 X 和 Y)', noseed: '使用调用 mlp_explore() 时 R 抽取的初始值',
      lossAt: '损失', network_label: '网络图:边的颜色表示权重的正负(蓝色为正,朱红色为负),粗细表示大小',
      invalid: '不是有限的数字:未使用' }
  };

  // ---- Numbers in text --------------------------------------------------
  function fmt(v) { return (v < 0 ? '−' : '') + Math.abs(v).toFixed(4); }
  function fmtp(v) { return v < 0 ? '(' + fmt(v) + ')' : fmt(v); }
  function terms(list) {
    if (list.length <= 6) return list.join(' + ');
    return list.slice(0, 5).join(' + ') + ' + … (' + list.length + ' terms)';
  }

  // ---- Which cells fed the active one (the yellow and orange marks) ------
  // marks[key] holds 2 for the active cell, 1 for the cells it came from.
  function stepMarks(step, t, cell) {
    var marks = {}, def = STEPS[step - 1];
    def.show.forEach(function (key) { marks[key] = new Int8Array(t[key].r * t[key].c); });
    function mark(key, rows, cols, value) {
      var m = t[key], r0 = rows === null ? 0 : Math.min(rows, m.r - 1), r1 = rows === null ? m.r : r0 + 1;
      var c0 = cols === null ? 0 : Math.min(cols, m.c - 1), c1 = cols === null ? m.c : c0 + 1;
      for (var i = r0; i < r1; i++) for (var j = c0; j < c1; j++) marks[key][i * m.c + j] = value || 1;
    }
    function at(key) { return [Math.min(cell[0], t[key].r - 1), Math.min(cell[1], t[key].c - 1)]; }
    function brow(key, i) { return t[key].r === 1 ? 0 : i; }
    var c;
    switch (step) {
      case 3: c = at('hidden_layer_input');
        mark('hidden_layer_input', c[0], c[1], 2); mark('X', c[0], null); mark('wh', null, c[1]); mark('bh', brow('bh', c[0]), c[1]);
        break;
      case 4: c = at('hiddenlayer_activations');
        mark('hiddenlayer_activations', c[0], c[1], 2); mark('hidden_layer_input', c[0], c[1]);
        break;
      case 5: c = at('output');
        mark('output', c[0], c[1], 2); mark('output_layer_input', c[0], c[1], 2);
        mark('hiddenlayer_activations', c[0], null); mark('wout', null, c[1]); mark('bout', brow('bout', c[0]), c[1]);
        break;
      case 6: c = at('E');
        mark('E', c[0], c[1], 2); mark('Y', c[0], c[1]); mark('output', c[0], c[1]);
        break;
      case 7: c = at('slope_output_layer');
        mark('slope_output_layer', c[0], c[1], 2); mark('output', c[0], c[1]);
        c = at('slope_hidden_layer');
        mark('slope_hidden_layer', c[0], c[1], 2); mark('hiddenlayer_activations', c[0], c[1]);
        break;
      case 8: c = at('d_output');
        mark('d_output', c[0], c[1], 2); mark('E', c[0], c[1]); mark('slope_output_layer', c[0], c[1]);
        break;
      case 9: c = at('Error_at_hidden_layer');
        mark('Error_at_hidden_layer', c[0], c[1], 2); mark('d_output', c[0], null); mark('wout', c[1], null);
        break;
      case 10: c = at('d_hiddenlayer');
        mark('d_hiddenlayer', c[0], c[1], 2); mark('Error_at_hidden_layer', c[0], c[1]); mark('slope_hidden_layer', c[0], c[1]);
        break;
      case 11: c = at('wout+');
        mark('wout+', c[0], c[1], 2); mark('hiddenlayer_activations', null, c[0]); mark('d_output', null, c[1]);
        c = at('wh+');
        mark('wh+', c[0], c[1], 2); mark('X', null, c[0]); mark('d_hiddenlayer', null, c[1]);
        break;
      case 12:
        [['bh+', 'd_hiddenlayer'], ['bout+', 'd_output']].forEach(function (pair) {
          c = at(pair[0]);
          mark(pair[0], c[0], c[1], 2);
          if (t.rowBias) mark(pair[1], c[0], null); else mark(pair[1], null, c[1]);
        });
        break;
    }
    return marks;
  }

  // The formula of target `key` at cell (i, j) of step `step`, with its numbers.
  function cellFormula(step, key, i, j, t, cfg) {
    function v(name, r, c) { return t[name].v[r * t[name].c + c]; }
    function ij(r, c) { return '[' + (r + 1) + ',' + (c + 1) + ']'; }
    var k, list = [], names = [], s;
    switch (key) {
      case 'hidden_layer_input':
      case 'output_layer_input':
        var inp = key === 'hidden_layer_input' ? 'X' : 'hiddenlayer_activations';
        var w = key === 'hidden_layer_input' ? 'wh' : 'wout', b = key === 'hidden_layer_input' ? 'bh' : 'bout';
        var bi = t[b].r === 1 ? 0 : i;
        for (k = 0; k < t[inp].c; k++) list.push(fmtp(v(inp, i, k)) + ' × ' + fmtp(v(w, k, j)));
        return key + ij(i, j) + ' = Σₖ ' + inp + '[' + (i + 1) + ',k] × ' + w + '[k,' + (j + 1) + '] + ' + b + ij(bi, j) +
          '\n  = ' + terms(list) + ' + ' + fmtp(v(b, bi, j)) + '\n  = ' + String(v(key, i, j));
      case 'hiddenlayer_activations':
        return key + ij(i, j) + ' = ' + cfg.activation + '(hidden_layer_input' + ij(i, j) + ') = ' + cfg.activation +
          '(' + fmt(v('hidden_layer_input', i, j)) + ')\n  = ' + String(v(key, i, j)) + '    (' + cfg.activation + '(u) = ' + ACT[cfg.activation].def + ')';
      case 'output':
        return key + ij(i, j) + ' = ' + cfg.output + '(output_layer_input' + ij(i, j) + ') = ' + cfg.output +
          '(' + fmt(v('output_layer_input', i, j)) + ')\n  = ' + String(v(key, i, j));
      case 'E':
        return 'E' + ij(i, j) + ' = y' + ij(i, j) + ' − output' + ij(i, j) + ' = ' + fmt(v('Y', i, j)) + ' − ' +
          fmtp(v('output', i, j)) + '\n  = ' + String(v(key, i, j));
      case 'slope_output_layer':
      case 'slope_hidden_layer':
        var out = key === 'slope_output_layer';
        var a = out ? 'output' : 'hiddenlayer_activations', u = out ? 'output_layer_input' : 'hidden_layer_input';
        var f = out ? cfg.output : cfg.activation;
        return key + ij(i, j) + ' = derivatives_' + f + '(' + a + ij(i, j) + ') = ' +
          ACT[f].text(v(u, i, j), v(a, i, j)) + '\n  = ' + String(v(key, i, j));
      case 'd_output':
        return 'd_output' + ij(i, j) + ' = E' + ij(i, j) + (t.factor !== 1 ? ' × 2/' + t.E.c : '') + ' × slope_output_layer' + ij(i, j) +
          ' = ' + fmtp(v('E', i, j)) + (t.factor !== 1 ? ' × ' + fmt(t.factor) : '') + ' × ' + fmtp(v('slope_output_layer', i, j)) +
          '\n  = ' + String(v(key, i, j));
      case 'Error_at_hidden_layer':
        for (k = 0; k < t.d_output.c; k++) list.push(fmtp(v('d_output', i, k)) + ' × ' + fmtp(v('wout', j, k)));
        return key + ij(i, j) + ' = Σₖ d_output[' + (i + 1) + ',k] × wout[' + (j + 1) + ',k]\n  = ' + terms(list) +
          '\n  = ' + String(v(key, i, j));
      case 'd_hiddenlayer':
        return key + ij(i, j) + ' = Error_at_hidden_layer' + ij(i, j) + ' × slope_hidden_layer' + ij(i, j) + ' = ' +
          fmtp(v('Error_at_hidden_layer', i, j)) + ' × ' + fmtp(v('slope_hidden_layer', i, j)) + '\n  = ' + String(v(key, i, j));
      case 'wout+':
      case 'wh+':
        var w0 = key === 'wout+' ? 'wout' : 'wh', from = key === 'wout+' ? 'hiddenlayer_activations' : 'X';
        var delta = key === 'wout+' ? 'd_output' : 'd_hiddenlayer';
        for (k = 0; k < t[from].r; k++) list.push(fmtp(v(from, k, i)) + ' × ' + fmtp(v(delta, k, j)));
        return w0 + ij(i, j) + ' = ' + w0 + ij(i, j) + ' + (Σᵣ ' + from + '[r,' + (i + 1) + '] × ' + delta + '[r,' + (j + 1) +
          ']) × learning_rate\n  = ' + fmtp(v(w0, i, j)) + ' + (' + terms(list) + ') × ' + String(t.lr) + '\n  = ' + String(v(key, i, j));
      case 'bh+':
      case 'bout+':
        var b0 = key === 'bh+' ? 'bh' : 'bout', dl = key === 'bh+' ? 'd_hiddenlayer' : 'd_output';
        if (!t.rowBias) {
          for (k = 0; k < t[dl].r; k++) list.push(fmtp(v(dl, k, j)));
          s = ' + (Σᵣ ' + dl + '[r,' + (j + 1) + ']) × learning_rate';
        } else {
          for (k = 0; k < t[dl].c; k++) list.push(fmtp(v(dl, i, k)));
          s = ' + (Σₖ ' + dl + '[' + (i + 1) + ',k]) × learning_rate';
        }
        return b0 + ij(i, j) + ' = ' + b0 + ij(i, j) + s + '\n  = ' + fmtp(v(b0, i, j)) + ' + (' + terms(list) + ') × ' +
          String(t.lr) + '\n  = ' + String(v(key, i, j));
    }
    return '';
  }

  // ---- Small DOM helpers -------------------------------------------------
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var a in attrs) {
      if (a === 'text') e.textContent = attrs[a];
      else if (a === 'cls') e.className = attrs[a];
      else e.setAttribute(a, attrs[a]);
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  var SVGNS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var a in attrs) e.setAttribute(a, attrs[a]);
    return e;
  }
  function weightColour(w) { return w >= 0 ? '#0072B2' : '#D55E00'; }

  var counter = 0;

  // ---- The page ----------------------------------------------------------
  function Page(root, x) {
    var self = this;
    this.root = root;
    this.x = x;
    this.id = (root.id || 'bpx') + '-' + (++counter);
    var s = x.settings;
    this.original = { lr: parseFloat(s.lr), hidden: s.hidden, activation: s.activation, output: s.output, loss: s.loss };
    this.state = { epoch: 0, step: 3, cell: [0, 0], lang: s.lang, playing: false, edited: false };
    this.cfg = { lr: parseFloat(s.lr), hidden: s.hidden, activation: s.activation, output: s.output, loss: s.loss,
                 epochs: s.epochs, bias: s.bias };
    this.X = fromR(x.X);
    this.Y = fromR(x.Y);
    this.build();
    this.retrain();
    root.addEventListener('keydown', function (e) { self.key(e); });
  }

  Page.prototype.t = function (k) { return TEXT[this.state.lang][k]; };

  // The starting weights for the page's hidden size and activation: those
  // mlp_train() draws for them from the RNG state R had (see ?mlp_explore).
  Page.prototype.start = function () {
    var x = this.x, s = x.settings, cfg = this.cfg;
    var init = s.init_given && !x.starts.length ? null : x.init_of[cfg.activation];
    if (!init || (cfg.hidden === s.hidden && init === s.init)) return { wh: fromR(x.start.wh), bh: fromR(x.start.bh),
      wout: fromR(x.start.wout), bout: fromR(x.start.bout) };
    for (var q = 0; q < x.starts.length; q++) {
      var st = x.starts[q];
      if (st.hidden === cfg.hidden && st.init === init) {
        return { wh: fromR(st.wh), bh: fromR(st.bh), wout: fromR(st.wout), bout: fromR(st.bout) };
      }
    }
    throw new Error('no starting weights for ' + cfg.hidden + ' hidden units and init "' + init + '"');
  };

  Page.prototype.retrain = function () {
    var data = { X: this.X, Y: this.Y, n: this.X.r, d: this.X.c, o: this.Y.c };
    this.run = { start: this.start(), data: data, cfg: this.cfg };
    train(this.run);
    this.state.epoch = Math.min(this.state.epoch, this.cfg.epochs - 1);
    this.render();
  };

  Page.prototype.trace = function () {
    if (!this.traced || this.traced.epoch !== this.state.epoch || this.traced.run !== this.run) {
      var p = weightsAt(this.run, this.state.epoch);
      this.traced = { epoch: this.state.epoch, run: this.run, p: copyParams(p), t: iteration(p, this.run.data, this.cfg, true) };
    }
    return this.traced;
  };

  Page.prototype.build = function () {
    var self = this, id = this.id, s = this.x.settings, root = this.root;
    root.innerHTML = '';
    root.classList.add('bpx');
    root.setAttribute('tabindex', '0');
    function control(name, input) {
      input.id = id + '-' + name;
      var label = el('label', { 'for': input.id });
      self.labels[name] = label;
      return el('span', { cls: 'bpx-control' }, [label, input]);
    }
    this.labels = {};
    this.epochRange = el('input', { type: 'range', min: '0', max: String(s.epochs - 1), step: '1', value: '0' });
    this.epochNumber = el('input', { type: 'number', min: '0', max: String(s.epochs - 1), step: '1', value: '0' });
    this.epochNumber.id = id + '-epoch-number';
    this.epochNumber.setAttribute('aria-describedby', id + '-epoch-note');
    this.epochOf = el('span');
    this.playButton = el('button', { type: 'button' });
    this.lrInput = el('input', { type: 'number', min: '0', step: 'any', value: String(this.cfg.lr) });
    this.hiddenSelect = el('select');
    var hmax = this.x.starts.length ? Math.max(8, s.hidden) : s.hidden;
    for (var h = this.x.starts.length ? 1 : s.hidden; h <= hmax; h++) this.hiddenSelect.appendChild(el('option', { value: String(h), text: String(h) }));
    if (!this.x.starts.length) this.hiddenSelect.disabled = true;
    this.actSelect = el('select');
    this.x.offered.activation.forEach(function (a) { self.actSelect.appendChild(el('option', { value: a, text: a })); });
    this.outSelect = el('select');
    this.x.offered.output.forEach(function (a) { self.outSelect.appendChild(el('option', { value: a, text: a })); });
    this.lossSelect = el('select');
    this.x.offered.loss.forEach(function (a) { self.lossSelect.appendChild(el('option', { value: a, text: a })); });
    this.langButton = el('button', { type: 'button', lang: 'zh' });
    this.resetButton = el('button', { type: 'button' });
    var epochControl = control('epoch', this.epochRange);
    epochControl.appendChild(this.epochNumber);
    epochControl.appendChild(this.epochOf);
    this.epochNumberLabel = el('label', { 'for': this.epochNumber.id, cls: 'bpx-sr' });
    epochControl.appendChild(this.epochNumberLabel);
    var controls = el('div', { cls: 'bpx-controls', role: 'group' }, [
      epochControl, this.playButton,
      control('lr', this.lrInput), control('hidden', this.hiddenSelect), control('activation', this.actSelect),
      control('output', this.outSelect), control('loss', this.lossSelect), this.resetButton, this.langButton
    ]);
    this.status = el('div', { cls: 'bpx-status' });
    this.epochNote = el('div', { cls: 'bpx-note', id: id + '-epoch-note' });
    this.call = el('div', { cls: 'bpx-note' });
    this.stepList = el('div', { cls: 'bpx-steps', role: 'tablist' });
    this.stepButtons = STEPS.map(function (st, k) {
      var b = el('button', { type: 'button', role: 'tab', id: id + '-tab-' + (k + 1), 'aria-controls': id + '-panel' });
      b.addEventListener('click', function () { self.setStep(k + 1); });
      self.stepList.appendChild(b);
      return b;
    });
    this.title = el('div', { cls: 'bpx-title', 'aria-live': 'polite' });
    this.stepFormula = el('div', { cls: 'bpx-step-formula' });
    this.stepNote = el('div', { cls: 'bpx-note' });
    this.legend = el('div', { cls: 'bpx-legend' });
    this.sheet = el('div', { cls: 'bpx-sheet' });
    this.formula = el('div', { cls: 'bpx-formula', 'aria-live': 'polite', role: 'status' });
    this.hint = el('div', { cls: 'bpx-note' });
    var panel = el('div', { role: 'tabpanel', id: id + '-panel' }, [this.title, this.stepFormula, this.stepNote, this.legend,
      this.sheet, this.formula, this.hint]);
    this.stepsHeading = el('h2');
    var main = el('div', { cls: 'bpx-main' }, [this.stepsHeading, this.stepList, panel]);

    this.networkHeading = el('h2');
    this.networkSvg = svg('svg', { width: '360', height: '220', viewBox: '0 0 360 220', role: 'img' });
    this.lossHeading = el('h2');
    this.lossSvg = svg('svg', { width: '360', height: '170', viewBox: '0 0 360 170', role: 'img' });
    this.lossSvg.style.cursor = 'pointer';
    this.lossSvg.addEventListener('click', function (e) {
      var box = self.lossSvg.getBoundingClientRect(), fx = (e.clientX - box.left) / box.width * 360;
      self.setEpoch(Math.round((fx - 44) / (360 - 54) * (self.cfg.epochs - 1)));
    });
    var side = [el('div', { cls: 'bpx-panel' }, [this.networkHeading, this.networkSvg]),
      el('div', { cls: 'bpx-panel' }, [this.lossHeading, this.lossSvg])];
    if (this.X.c === 2) {
      this.surfaceHeading = el('h2');
      this.surface = el('canvas', { width: '240', height: '240', role: 'img' });
      this.surfaceNote = el('div', { cls: 'bpx-note' });
      side.push(el('div', { cls: 'bpx-panel' }, [this.surfaceHeading, this.surface, this.surfaceNote]));
    }
    var layout = el('div', { cls: 'bpx-layout' }, [main, el('div', { cls: 'bpx-side' }, side)]);

    this.dataHeading = el('h2');
    this.dataBox = el('div', { cls: 'bpx-data' }, [this.dataHeading, this.dataTable('X', this.X), this.dataTable('Y', this.Y)]);
    this.testPre = el('pre', { cls: 'bpx-test bpx-hidden', id: id + '-test' });
    this.errorPre = el('pre', { cls: 'bpx-errors bpx-hidden', id: id + '-errors', text: '[]' });
    [controls, this.status, this.epochNote, this.call, layout, this.dataBox, this.testPre, this.errorPre]
      .forEach(function (c) { root.appendChild(c); });
    showErrors();

    this.epochRange.addEventListener('input', function () { self.setEpoch(parseInt(self.epochRange.value, 10)); });
    this.epochNumber.addEventListener('change', function () { self.setEpoch(parseInt(self.epochNumber.value, 10)); });
    this.playButton.addEventListener('click', function () { self.play(!self.state.playing); });
    this.lrInput.addEventListener('change', function () {
      var v = parseFloat(self.lrInput.value);
      var ok = isFinite(v) && v > 0;
      self.lrInput.setAttribute('aria-invalid', ok ? 'false' : 'true');
      if (ok) self.set({ lr: v });
    });
    this.hiddenSelect.addEventListener('change', function () { self.set({ hidden: parseInt(self.hiddenSelect.value, 10) }); });
    this.actSelect.addEventListener('change', function () { self.set({ activation: self.actSelect.value }); });
    this.outSelect.addEventListener('change', function () { self.set({ output: self.outSelect.value }); });
    this.lossSelect.addEventListener('change', function () { self.set({ loss: self.lossSelect.value }); });
    this.langButton.addEventListener('click', function () {
      self.state.lang = self.state.lang === 'en' ? 'zh' : 'en';
      self.render();
    });
    this.resetButton.addEventListener('click', function () {
      self.X = fromR(self.x.X);
      self.Y = fromR(self.x.Y);
      self.state.edited = false;
      self.dataBox.replaceChild(self.dataTable('X', self.X), self.dataBox.children[1]);
      self.dataBox.replaceChild(self.dataTable('Y', self.Y), self.dataBox.children[2]);
      self.set(self.original);
    });
    function pick(e) {
      var td = e.target.closest ? e.target.closest('td.bpx-target') : null;
      if (!td) return;
      self.state.cell = [parseInt(td.getAttribute('data-i'), 10), parseInt(td.getAttribute('data-j'), 10)];
      self.paintMarks();
    }
    this.sheet.addEventListener('mouseover', pick);
    this.sheet.addEventListener('focusin', pick);
    this.sheet.addEventListener('click', pick);
  };

  // The editable X or Y: one labelled input per cell.
  Page.prototype.dataTable = function (name, m) {
    var self = this, rows = [];
    for (var i = 0; i < m.r; i++) {
      var cells = [];
      for (var j = 0; j < m.c; j++) {
        (function (i, j) {
          var input = el('input', { type: 'text', inputmode: 'decimal', value: String(m.v[i * m.c + j]),
            'aria-label': name + ' row ' + (i + 1) + ' column ' + (j + 1) });
          input.addEventListener('change', function () {
            var v = Number(input.value.trim());
            var ok = input.value.trim() !== '' && isFinite(v);
            input.setAttribute('aria-invalid', ok ? 'false' : 'true');
            input.title = ok ? '' : self.t('invalid');
            if (!ok) return;
            m.v[i * m.c + j] = v;
            self.state.edited = true;
            self.retrain();
          });
          cells.push(el('td', null, [input]));
        })(i, j);
      }
      rows.push(el('tr', null, cells));
    }
    return el('table', null, [el('caption', { text: name })].concat(rows));
  };

  Page.prototype.set = function (changes) {
    for (var k in changes) this.cfg[k] = changes[k];
    this.retrain();
  };
  Page.prototype.setStep = function (step) {
    this.state.step = Math.max(1, Math.min(12, step));
    this.render();
  };
  Page.prototype.setEpoch = function (epoch) {
    if (!isFinite(epoch)) return;
    this.state.epoch = Math.max(0, Math.min(this.cfg.epochs - 1, epoch));
    this.render();
  };
  Page.prototype.play = function (on) {
    var self = this;
    this.state.playing = on;
    this.playButton.textContent = this.t(on ? 'pause' : 'play');
    this.playButton.setAttribute('aria-pressed', on ? 'true' : 'false');
    if (!on) return;
    if (this.state.epoch >= this.cfg.epochs - 1) this.state.epoch = 0;
    var by = Math.max(1, Math.round(this.cfg.epochs / 300));
    function frame() {
      if (!self.state.playing) return;
      self.setEpoch(self.state.epoch + by);
      if (self.state.epoch >= self.cfg.epochs - 1) self.play(false); else window.requestAnimationFrame(frame);
    }
    window.requestAnimationFrame(frame);
  };

  Page.prototype.key = function (e) {
    var tag = e.target.tagName;
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
    var big = e.shiftKey ? 100 : 1;
    if (e.key === 'ArrowRight') this.setStep(this.state.step + 1);
    else if (e.key === 'ArrowLeft') this.setStep(this.state.step - 1);
    else if (e.key === 'ArrowUp') this.setEpoch(this.state.epoch + big);
    else if (e.key === 'ArrowDown') this.setEpoch(this.state.epoch - big);
    else return;
    e.preventDefault();
    // On the steps' tabs, the focus follows the selected step.
    if (e.target.getAttribute('role') === 'tab') this.stepButtons[this.state.step - 1].focus();
  };

  // ---- Rendering ---------------------------------------------------------
  Page.prototype.render = function () {
    var T = TEXT[this.state.lang], other = this.state.lang === 'en' ? 'zh' : 'en', s = this.x.settings, cfg = this.cfg;
    var self = this;
    this.root.setAttribute('lang', this.state.lang === 'zh' ? 'zh-Hans' : 'en');
    this.root.setAttribute('aria-label', 'mlp_explore: ' + T.steps);
    this.labels.epoch.textContent = T.epoch;
    this.epochNumberLabel.textContent = T.epoch + ' (number)';
    this.labels.lr.textContent = T.lr;
    this.labels.hidden.textContent = T.hidden;
    this.labels.activation.textContent = T.activation;
    this.labels.output.textContent = T.output;
    this.labels.loss.textContent = T.loss;
    this.langButton.textContent = T.lang;
    this.langButton.setAttribute('lang', other === 'zh' ? 'zh-Hans' : 'en');
    this.langButton.setAttribute('aria-label', T.langLabel);
    this.resetButton.textContent = T.reset;
    this.playButton.textContent = T[this.state.playing ? 'pause' : 'play'];
    this.epochRange.max = this.epochNumber.max = String(cfg.epochs - 1);
    this.epochRange.value = this.epochNumber.value = String(this.state.epoch);
    this.epochOf.textContent = ' ' + T.of + ' 0–' + (cfg.epochs - 1);
    this.epochRange.setAttribute('aria-valuetext', T.epoch + ' ' + this.state.epoch);
    if (document.activeElement !== this.lrInput) this.lrInput.value = String(cfg.lr);
    this.hiddenSelect.value = String(cfg.hidden);
    this.actSelect.value = cfg.activation;
    this.outSelect.value = cfg.output;
    this.lossSelect.value = cfg.loss;
    this.status.textContent = T.trained(cfg.epochs, this.run.ms);
    this.epochNote.textContent = T.epochNote;
    this.stepsHeading.textContent = T.steps;
    this.networkHeading.textContent = T.network;
    this.lossHeading.textContent = T.lossCurve;
    this.dataHeading.textContent = T.data;
    this.hint.textContent = T.hover;
    this.legend.innerHTML = '';
    this.legend.appendChild(el('span', { cls: 'bpx-swatch', style: 'background:#FFFF66' }));
    this.legend.appendChild(document.createTextNode(T.active + '   '));
    this.legend.appendChild(el('span', { cls: 'bpx-swatch', style: 'background:#FDBF6F' }));
    this.legend.appendChild(document.createTextNode(T.inputs));
    this.renderCall();
    this.stepButtons.forEach(function (b, k) {
      var on = k + 1 === self.state.step;
      b.textContent = (k + 1) + '';
      b.title = T.step + ' ' + (k + 1) + ': ' + STEPS[k][self.state.lang];
      b.setAttribute('aria-label', b.title);
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      b.tabIndex = on ? 0 : -1;
    });
    this.renderStep();
    this.renderNetwork();
    this.renderLoss();
    if (this.surface) this.renderSurface();
  };

  Page.prototype.renderCall = function () {
    var T = TEXT[this.state.lang], s = this.x.settings, cfg = this.cfg;
    var args = ['X', 'Y', 'hidden = ' + cfg.hidden, 'epochs = ' + cfg.epochs, 'lr = ' + cfg.lr, 'bias = "' + cfg.bias + '"',
      'activation = "' + cfg.activation + '"', 'output = "' + cfg.output + '"', 'loss = "' + cfg.loss + '"'];
    var code = (s.seed !== null && s.seed !== undefined && !s.init_given ? 'set.seed(' + s.seed + '); ' : '') +
      'mlp_train(' + args.join(', ') + ')';
    this.call.innerHTML = '';
    this.call.appendChild(document.createTextNode(T.call + ' '));
    this.call.appendChild(el('code', { cls: 'bpx-call', text: code }));
    var notes = [];
    if (s.seed === null || s.seed === undefined) notes.push(s.init_given ? 'init = the given matrices' : T.noseed);
    if (this.state.edited) notes.push(T.edited.trim());
    if (notes.length) this.call.appendChild(document.createTextNode(' (' + notes.join('; ') + ')'));
  };

  Page.prototype.renderStep = function () {
    var self = this, T = TEXT[this.state.lang], step = this.state.step, def = STEPS[step - 1], cfg = this.cfg;
    var tr = this.trace().t, digits = this.x.settings.digits;
    this.title.innerHTML = '';
    this.title.appendChild(document.createTextNode(T.step + ' ' + step + ': ' + def[this.state.lang]));
    var alt = this.state.lang === 'en' ? 'zh' : 'en';
    this.title.appendChild(el('span', { cls: 'bpx-title-alt', lang: alt === 'zh' ? 'zh-Hans' : 'en', text: def[alt] }));
    var formula = (step === 12 && tr.rowBias ? def.rowFormula : def.formula)
      .replace(/\{act\}/g, cfg.activation).replace(/\{out\}/g, cfg.output);
    if (step === 8 && cfg.loss === 'mse') formula = 'd_output = E * 2/' + tr.E.c + ' * slope_output_layer   (mse)';
    if (step === 11 || step === 12) formula += '\nlearning_rate = ' + String(cfg.lr);
    this.stepFormula.textContent = formula;
    this.stepNote.textContent = def.note ? def.note[this.state.lang] : '';
    this.sheet.innerHTML = '';
    this.sheet.setAttribute('aria-label', T.step + ' ' + step);
    def.show.forEach(function (key) {
      var m = tr[key], target = def.targets.indexOf(key) >= 0;
      var label = key.replace('+', '') + (key.slice(-1) === '+' ? T.updated : '');
      var rows = [];
      for (var i = 0; i < m.r; i++) {
        var cells = [];
        for (var j = 0; j < m.c; j++) {
          var v = m.v[i * m.c + j];
          var attrs = { 'data-key': key, 'data-i': String(i), 'data-j': String(j), 'data-v': String(v), title: String(v),
            text: v.toFixed(digits) };
          if (target) {
            attrs.cls = 'bpx-target';
            attrs.tabindex = '0';
            attrs['aria-label'] = label + ' [' + (i + 1) + ',' + (j + 1) + '] = ' + v.toFixed(digits);
          }
          cells.push(el('td', attrs));
        }
        rows.push(el('tr', null, cells));
      }
      self.sheet.appendChild(el('figure', { cls: 'bpx-mat', 'data-key': key },
        [el('figcaption', { text: label }), el('table', null, rows)]));
    });
    this.paintMarks();
  };

  Page.prototype.paintMarks = function () {
    var step = this.state.step, def = STEPS[step - 1], tr = this.trace().t, cell = this.state.cell, cfg = this.cfg;
    var marks = stepMarks(step, tr, cell);
    var tds = this.sheet.querySelectorAll('td[data-key]');
    for (var q = 0; q < tds.length; q++) {
      var td = tds[q], key = td.getAttribute('data-key'), m = tr[key];
      var mk = marks[key][parseInt(td.getAttribute('data-i'), 10) * m.c + parseInt(td.getAttribute('data-j'), 10)];
      td.className = (def.targets.indexOf(key) >= 0 ? 'bpx-target ' : '') + (mk === 2 ? 'bpx-m2' : mk === 1 ? 'bpx-m1' : '');
    }
    this.formula.textContent = def.targets.map(function (key) {
      var i = Math.min(cell[0], tr[key].r - 1), j = Math.min(cell[1], tr[key].c - 1);
      return cellFormula(step, key, i, j, tr, cfg);
    }).join('\n') || (step === 1 ? 'X, Y' : 'wh, bh, wout, bout');
  };

  Page.prototype.renderNetwork = function () {
    var g = this.networkSvg, p = this.trace().p, T = TEXT[this.state.lang];
    while (g.firstChild) g.removeChild(g.firstChild);
    var d = p.wh.r, h = p.wh.c, o = p.wout.c, W = 360, H = 220;
    var layers = [d, h, o], xs = [40, 180, 320];
    function ys(count) {
      var out = [], gap = Math.min(40, (H - 30) / Math.max(count, 1));
      for (var k = 0; k < count; k++) out.push(H / 2 + (k - (count - 1) / 2) * gap);
      return out;
    }
    var pos = layers.map(ys), max = 0, k, j;
    for (k = 0; k < p.wh.v.length; k++) max = Math.max(max, Math.abs(p.wh.v[k]));
    for (k = 0; k < p.wout.v.length; k++) max = Math.max(max, Math.abs(p.wout.v[k]));
    max = max || 1;
    g.appendChild(svg('title', {})).textContent = T.network_label;
    [[p.wh, 0, 'wh'], [p.wout, 1, 'wout']].forEach(function (e) {
      var m = e[0], l = e[1];
      for (var a = 0; a < m.r; a++) for (var b = 0; b < m.c; b++) {
        var w = m.v[a * m.c + b];
        var line = svg('line', { x1: xs[l], y1: pos[l][a], x2: xs[l + 1], y2: pos[l + 1][b], stroke: weightColour(w),
          'stroke-width': (0.5 + 5 * Math.abs(w) / max).toFixed(2), 'stroke-opacity': (0.35 + 0.65 * Math.abs(w) / max).toFixed(2) });
        line.appendChild(svg('title', {})).textContent = e[2] + '[' + (a + 1) + ',' + (b + 1) + '] = ' + String(w);
        g.appendChild(line);
      }
    });
    var names = [this.x.x_names, null, this.x.y_names];
    layers.forEach(function (count, l) {
      for (j = 0; j < count; j++) {
        g.appendChild(svg('circle', { cx: xs[l], cy: pos[l][j], r: 9, fill: l === 1 ? '#eef3f8' : '#fff', stroke: '#333' }));
        var text = svg('text', { x: l === 0 ? xs[l] - 14 : l === 2 ? xs[l] + 14 : xs[l], y: l === 1 ? pos[l][j] - 13 : pos[l][j] + 4,
          'text-anchor': l === 0 ? 'end' : l === 2 ? 'start' : 'middle', 'font-size': '11' });
        text.textContent = l === 1 ? 'h' + (j + 1) : names[l][j];
        g.appendChild(text);
      }
    });
  };

  Page.prototype.renderLoss = function () {
    var g = this.lossSvg, loss = this.run.loss, E = loss.length, T = TEXT[this.state.lang], k;
    while (g.firstChild) g.removeChild(g.firstChild);
    var W = 360, H = 170, L = 44, R = 10, top = 14, bottom = 28;
    var positive = true, lo = Infinity, hi = -Infinity;
    for (k = 0; k < E; k++) if (!(loss[k] > 0)) positive = false;
    function tf(v) { return positive ? Math.log(v) / Math.LN10 : v; }
    for (k = 0; k < E; k++) { var v = tf(loss[k]); if (isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } }
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (hi === lo) { hi += 0.5; lo -= 0.5; }
    function px(e) { return L + (E > 1 ? e / (E - 1) : 0) * (W - L - R); }
    function py(v) { return top + (1 - (tf(v) - lo) / (hi - lo)) * (H - top - bottom); }
    var step = Math.max(1, Math.floor(E / 600)), pts = [];
    for (k = 0; k < E; k += step) pts.push(px(k).toFixed(1) + ',' + py(loss[k]).toFixed(1));
    pts.push(px(E - 1).toFixed(1) + ',' + py(loss[E - 1]).toFixed(1));
    g.appendChild(svg('title', {})).textContent = T.lossCurve + (positive ? ' (log scale)' : '');
    g.appendChild(svg('line', { x1: L, y1: H - bottom, x2: W - R, y2: H - bottom, stroke: '#888' }));
    g.appendChild(svg('line', { x1: L, y1: top, x2: L, y2: H - bottom, stroke: '#888' }));
    g.appendChild(svg('polyline', { points: pts.join(' '), fill: 'none', stroke: '#222', 'stroke-width': '1.5' }));
    function label(x, y, text, anchor) {
      var t = svg('text', { x: x, y: y, 'font-size': '10', 'text-anchor': anchor || 'middle', fill: '#444' });
      t.textContent = text;
      g.appendChild(t);
    }
    label(L, H - bottom + 12, '0');
    label(W - R, H - bottom + 12, String(E - 1), 'end');
    label((L + W - R) / 2, H - 4, T.epoch);
    var hiLabel = positive ? Math.pow(10, hi) : hi, loLabel = positive ? Math.pow(10, lo) : lo;
    label(L - 3, top + 8, hiLabel.toPrecision(2), 'end');
    label(L - 3, H - bottom, loLabel.toPrecision(2), 'end');
    var e = this.state.epoch, cx = px(e), cy = py(loss[e]);
    g.appendChild(svg('line', { x1: cx, y1: top, x2: cx, y2: H - bottom, stroke: '#D55E00', 'stroke-dasharray': '3,3' }));
    g.appendChild(svg('circle', { cx: cx, cy: isFinite(cy) ? cy : top, r: 4, fill: '#D55E00' }));
    label(W - R, top + 2, T.epoch + ' ' + e + ': ' + T.lossAt + ' ' + loss[e].toPrecision(5), 'end');
  };

  // The network's first output over the plane of the two inputs, with the
  // training rows on top (TensorFlow Playground's view).
  Page.prototype.renderSurface = function () {
    var T = TEXT[this.state.lang], canvas = this.surface, ctx = canvas.getContext('2d');
    var W = canvas.width, H = canvas.height, X = this.X, Y = this.Y, n = X.r, cfg = this.cfg;
    this.surfaceHeading.textContent = T.surface;
    canvas.setAttribute('aria-label', T.surface + ', ' + T.epoch + ' ' + this.state.epoch);
    ctx.clearRect(0, 0, W, H);
    if (this.trace().p.bh.r > 1) {
      this.surfaceNote.textContent = T.rowSurface;
      return;
    }
    this.surfaceNote.textContent = '';
    var lo = [Infinity, Infinity], hi = [-Infinity, -Infinity], i, a, b;
    for (i = 0; i < n; i++) for (a = 0; a < 2; a++) {
      lo[a] = Math.min(lo[a], X.v[i * 2 + a]);
      hi[a] = Math.max(hi[a], X.v[i * 2 + a]);
    }
    for (a = 0; a < 2; a++) {
      var pad = (hi[a] - lo[a]) * 0.15 || 0.5;
      lo[a] -= pad;
      hi[a] += pad;
    }
    var ylo = Infinity, yhi = -Infinity;
    for (i = 0; i < n; i++) { ylo = Math.min(ylo, Y.v[i * Y.c]); yhi = Math.max(yhi, Y.v[i * Y.c]); }
    if (cfg.output === 'sigmoid') { ylo = Math.min(ylo, 0); yhi = Math.max(yhi, 1); }
    if (yhi === ylo) { yhi += 0.5; ylo -= 0.5; }
    function colour(v) {
      var t = Math.max(0, Math.min(1, (v - ylo) / (yhi - ylo)));
      // vermilion (low) to white to blue (high)
      var c0 = [213, 94, 0], c1 = [255, 255, 255], c2 = [0, 114, 178], u = t < 0.5 ? t * 2 : (t - 0.5) * 2;
      var from = t < 0.5 ? c0 : c1, to = t < 0.5 ? c1 : c2;
      return 'rgb(' + Math.round(from[0] + (to[0] - from[0]) * u) + ',' + Math.round(from[1] + (to[1] - from[1]) * u) + ',' +
        Math.round(from[2] + (to[2] - from[2]) * u) + ')';
    }
    var p = this.trace().p, G = 48, cw = W / G, ch = H / G;
    for (a = 0; a < G; a++) for (b = 0; b < G; b++) {
      var x0 = lo[0] + (a + 0.5) / G * (hi[0] - lo[0]), x1 = hi[1] - (b + 0.5) / G * (hi[1] - lo[1]);
      ctx.fillStyle = colour(predict(p, [x0, x1], cfg)[0]);
      ctx.fillRect(a * cw, b * ch, cw + 0.5, ch + 0.5);
    }
    for (i = 0; i < n; i++) {
      var px = (X.v[i * 2] - lo[0]) / (hi[0] - lo[0]) * W, py = (hi[1] - X.v[i * 2 + 1]) / (hi[1] - lo[1]) * H;
      ctx.beginPath();
      ctx.arc(px, py, 6, 0, 2 * Math.PI);
      ctx.fillStyle = colour(Y.v[i * Y.c]);
      ctx.fill();
      ctx.lineWidth = 3;
      ctx.strokeStyle = '#fff';
      ctx.stroke();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = '#111';
      ctx.stroke();
    }
  };

  // ---- The tests' hook ---------------------------------------------------
  // #bpx=<JSON> in the page's address: {runs: [{edit: [[matrix, i, j,
  // value], ...], activation, lr, hidden, output, loss, epochs: [k, ...],
  // steps: [s, ...]}], step, epoch, cell, lang, keys: [key, ...]}. Each run
  // edits cells of X or Y as a learner would (typing into the cell's input),
  // sets the page as its controls would, retrains, shows each epoch and
  // step and reads back the numbers shown (each cell's full value); the
  // result goes into <pre class="bpx-test"> as JSON. The other fields set
  // the view left on the page (for screenshots; the cell counts from 0),
  // then `keys` are pressed on the page ("Shift+ArrowUp": with Shift).
  Page.prototype.hook = function (spec) {
    var self = this, out = { runs: [], ms: this.run.ms };
    (spec.runs || []).forEach(function (r) {
      (r.edit || []).forEach(function (e) {
        var input = self.dataBox.querySelector('input[aria-label="' + e[0] + ' row ' + (e[1] + 1) + ' column ' + (e[2] + 1) + '"]');
        input.value = String(e[3]);
        input.dispatchEvent(new Event('change', { bubbles: true }));
      });
      var changes = {};
      ['activation', 'lr', 'hidden', 'output', 'loss'].forEach(function (k) { if (r[k] !== undefined) changes[k] = r[k]; });
      self.set(changes);
      var res = { settings: JSON.parse(JSON.stringify(self.cfg)), ms: self.run.ms, epochs: {} };
      (r.epochs || [0]).forEach(function (k) {
        self.setEpoch(k);
        var shown = { loss: self.run.loss[k], steps: {} };
        (r.steps || [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]).forEach(function (st) {
          self.setStep(st);
          var mats = {}, figs = self.sheet.querySelectorAll('figure[data-key]');
          for (var q = 0; q < figs.length; q++) {
            var key = figs[q].getAttribute('data-key'), rows = figs[q].querySelectorAll('tr');
            mats[key] = [];
            for (var i = 0; i < rows.length; i++) {
              var tds = rows[i].querySelectorAll('td'), row = [];
              for (var j = 0; j < tds.length; j++) row.push(Number(tds[j].getAttribute('data-v')));
              mats[key].push(row);
            }
          }
          mats.formula = self.formula.textContent;
          shown.steps[st] = mats;
        });
        res.epochs[k] = shown;
      });
      var f = self.run.final;
      res.final = { wh: rowsOf(f.wh), bh: rowsOf(f.bh), wout: rowsOf(f.wout), bout: rowsOf(f.bout) };
      res.loss_last = self.run.loss[self.run.loss.length - 1];
      out.runs.push(res);
    });
    if (spec.lang) this.state.lang = spec.lang;
    if (spec.cell) this.state.cell = spec.cell;
    if (spec.epoch !== undefined) this.state.epoch = Math.max(0, Math.min(this.cfg.epochs - 1, spec.epoch));
    if (spec.step) this.state.step = spec.step;
    this.render();
    (spec.keys || []).forEach(function (k) {
      var shift = k.indexOf('Shift+') === 0;
      self.root.dispatchEvent(new KeyboardEvent('keydown', { key: shift ? k.slice(6) : k, shiftKey: shift, bubbles: true }));
    });
    out.state = { step: this.state.step, epoch: this.state.epoch, lang: this.state.lang };
    out.title = this.title.textContent;
    out.errors = errors;
    this.testPre.textContent = JSON.stringify(out);
  };

  function hookSpec() {
    var m = /[#&]bpx=([^&]*)/.exec(window.location.hash || '');
    return m ? JSON.parse(decodeURIComponent(m[1])) : null;
  }

  HTMLWidgets.widget({
    name: 'mlp_explore',
    type: 'output',
    factory: function (el) {
      return {
        renderValue: function (x) {
          try {
            var page = new Page(el, x);
            var spec = hookSpec();
            if (spec) page.hook(spec);
          } catch (e) {
            recordError((e && e.message ? e.message : e) + (e && e.stack ? ' | ' + String(e.stack).split('\n')[1] : ''));
            throw e;
          }
        },
        resize: function () {}
      };
    }
  });
})();
