# make bench: every benchmark, each printing ratios measured in this run.
source(file.path("bench", "common.R"))
cat(machine_line(), "\n")
# realdata.R keeps the peers' scores for rule.R, which judges the rule's
# variants against them.
peers <- tempfile("peers", fileext = ".csv")
Sys.setenv(BENCH_OUT = peers, BENCH_PEERS = peers)
for (script in c("nnbenchmark.R", "classification.R", "realdata.R", "rule.R", "coverage.R", "speed.R",
                 "scaling.R", "versions.R", "explore.R")) {
  path <- file.path("bench", script)
  if (file.exists(path)) source(path, local = new.env())
}
