.onLoad <- function(libname, pkgname) {
  load_vocabulary()
  # The parsnip engine: registered now if parsnip is loaded, and whenever
  # parsnip loads later (its model environment starts empty each time).
  if (isNamespaceLoaded("parsnip")) register_parsnip_engine()
  setHook(packageEvent("parsnip", "onLoad"), function(...) register_parsnip_engine())
}
