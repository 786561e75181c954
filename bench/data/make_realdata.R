# Writes bench/data/realdata/: the public data sets of the real-data
# benchmark (bench/realdata.R), one CSV each with the response in column `y`,
# and index.csv (name, task, source). Run once by hand from the package root
# with modeldata, palmerpenguins, carData and ggplot2 installed (Debian r-cran-*); the
# benchmark reads only the files written here. None is from mlbench, whose
# data sets are kept for an independent check of the defaults.
out <- file.path("bench", "data", "realdata")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
sk <- "/usr/lib/python3/dist-packages/sklearn/datasets/data"
sets <- list()
add <- function(name, task, source, df, response) {
  df <- df[stats::complete.cases(df), , drop = FALSE]
  y <- df[[response]]
  df[[response]] <- NULL
  df$y <- if (task == "classification") as.character(y) else as.numeric(y)
  # Characters stay characters in the CSV; read back, they are factors.
  df[] <- lapply(df, function(col) if (is.factor(col)) as.character(col) else col)
  utils::write.csv(df, gzfile(file.path(out, paste0(name, ".csv.gz"))), row.names = FALSE)
  sets[[name]] <<- data.frame(name = name, task = task, rows = nrow(df), source = source)
}
data("ames", "attrition", "cells", "concrete", "hpc_data", "stackoverflow", "wa_churn",
     "credit_data", "biomass", "check_times", package = "modeldata")
add("iris", "classification", "R datasets", iris, "Species")
wine <- read.csv(file.path(sk, "wine_data.csv"), skip = 1, header = FALSE)
names(wine) <- c(paste0("x", 1:13), "class")
add("wine", "classification", "scikit-learn", wine, "class")
bc <- read.csv(file.path(sk, "breast_cancer.csv"), skip = 1, header = FALSE)
names(bc) <- c(paste0("x", 1:30), "class")
add("breast_cancer", "classification", "scikit-learn", bc, "class")
add("crabs", "classification", "MASS", MASS::crabs[, c("sp", "sex", "FL", "RW", "CL", "CW", "BD")], "sp")
add("penguins", "classification", "palmerpenguins", as.data.frame(palmerpenguins::penguins[, 1:7]), "species")
add("attrition", "classification", "modeldata", attrition, "Attrition")
cells$case <- NULL
add("cells", "classification", "modeldata", cells, "class")
add("hpc", "classification", "modeldata", hpc_data, "class")
add("stackoverflow", "classification", "modeldata", stackoverflow, "Remote")
wa_churn$customer_id <- NULL
add("churn", "classification", "modeldata", wa_churn, "churn")
add("credit", "classification", "modeldata", credit_data, "Status")
diab_x <- read.csv(gzfile(file.path(sk, "diabetes_data_raw.csv.gz")), sep = " ", header = FALSE)
diab <- data.frame(diab_x, target = scan(gzfile(file.path(sk, "diabetes_target.csv.gz")), quiet = TRUE))
digits <- read.csv(gzfile(file.path(sk, "digits.csv.gz")), header = FALSE)
names(digits) <- c(paste0("p", 1:64), "digit")
add("digits", "classification", "scikit-learn", digits, "digit")
diamonds <- as.data.frame(ggplot2::diamonds)
diamonds[c("cut", "color", "clarity")] <- lapply(diamonds[c("cut", "color", "clarity")], as.character)
add("diamonds_cut", "classification", "ggplot2", diamonds, "cut")
add("diabetes", "regression", "scikit-learn", diab, "target")
add("concrete", "regression", "modeldata", concrete, "compressive_strength")
ames$Sale_Price <- log10(ames$Sale_Price)
add("ames", "regression", "modeldata (log10 price)", ames, "Sale_Price")
add("biomass", "regression", "modeldata", biomass[, c("carbon", "hydrogen", "oxygen", "nitrogen", "sulfur", "HHV")], "HHV")
add("airquality", "regression", "R datasets", airquality, "Ozone")
add("quakes", "regression", "R datasets", quakes, "mag")
add("slid", "regression", "carData", carData::SLID, "wages")
check_times$package <- NULL
check_times$check_time <- log10(check_times$check_time)
add("check_times", "regression", "modeldata (log10 seconds)", check_times, "check_time")
diamonds$price <- log10(diamonds$price)
add("diamonds", "regression", "ggplot2 (log10 price)", diamonds, "price")
utils::write.csv(do.call(rbind, sets), file.path(out, "index.csv"), row.names = FALSE)
