// MathJax 2.7 (served from the site itself, see docs/hooks/mathjax.py) for pymdownx.arithmatex's generic markup:
// \( ... \) inline and \[ ... \] display math inside elements of class "arithmatex".
// The combined configuration carries the HTML-CSS output jax, which the jupyter-server-mathjax wheel ships only there.
window.MathJax = {
  config: ["TeX-AMS-MML_HTMLorMML-full.js"],
  tex2jax: {inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: true,
            processEnvironments: true, processClass: "arithmatex", ignoreClass: ".*"},
  jax: ["input/TeX", "output/HTML-CSS"],
  "HTML-CSS": {availableFonts: ["STIX-Web"], preferredFont: "STIX-Web", webFont: "STIX-Web", imageFont: null},
  extensions: ["tex2jax.js"],
  TeX: {extensions: ["AMSmath.js", "AMSsymbols.js"]},
  showMathMenu: false,
  messageStyle: "none"
};
