# make bench: every benchmark, each printing ratios measured in this run.
source(file.path("bench", "common.R"))
cat(machine_line(), "\n")
for (script in c("nnbenchmark.R", "classification.R", "realdata.R", "speed.R", "scaling.R", "versions.R")) {
  path <- file.path("bench", script)
  if (file.exists(path)) source(path, local = new.env())
}
