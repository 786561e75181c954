# Writes bench/data/realdata/: the public data sets of the real-data
# benchmark (bench/realdata.R), one gzipped CSV each with the response in
# column `y` (a class label for classification, a number for regression), and
# index.csv (name, task, rows, inputs, classes, source). Run once by hand from
# the package root; the benchmark reads only the files written here.
#
# Needs, from Debian (r-cran-*): modeldata, caret, ggplot2, dplyr, MASS, rpart,
# carData, palmerpenguins, dslabs, HSAUR3, pls; from CRAN: DAAG, fueleconomy,
# ggplot2movies, nasaweather, Lahman, openintro; and scikit-learn's bundled
# data (python3-sklearn). Nothing is downloaded at run time.
#
# None of these sets is a data set of mlbench, kernlab,
# AppliedPredictiveModeling, ISLR, ISLR2, arules, nycflights13 or AER, nor a
# copy of one taken from another package (so no modeldata cells, concrete,
# hpc_data, ad_data, permeability_qsar, two_class_dat, solubility; no MASS
# fgl, Pima, Boston, biopsy; no spam, abalone, letters, ...): those are kept
# for an independent check of the defaults. The fuel-economy classes leave
# out model years 2010-2012, the years of AppliedPredictiveModeling's
# FuelEconomy.
out <- file.path("bench", "data", "realdata")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
unlink(file.path(out, "*.csv.gz"))
sk <- "/usr/lib/python3/dist-packages/sklearn/datasets/data"
sets <- list()
add <- function(name, task, source, df, response) {
  df <- as.data.frame(df)
  # Columns that are mostly missing go, then rows with any missing value.
  mostly_na <- vapply(df, function(col) mean(is.na(col)) > 0.5, logical(1))
  df <- df[, !mostly_na | names(df) == response, drop = FALSE]
  df <- df[stats::complete.cases(df), , drop = FALSE]
  y <- df[[response]]
  df[[response]] <- NULL
  df <- df[vapply(df, function(col) length(unique(col)) > 1, logical(1))]
  # Factors are written as characters; read back, they are factors again.
  df[] <- lapply(df, function(col) {
    if (is.factor(col) || is.logical(col)) as.character(col) else as.vector(col)
  })
  df$y <- if (task == "classification") as.character(y) else as.numeric(y)
  utils::write.csv(df, gzfile(file.path(out, paste0(name, ".csv.gz"))), row.names = FALSE)
  sets[[name]] <<- data.frame(
    name = name, task = task, rows = nrow(df), inputs = ncol(df) - 1L,
    classes = if (task == "classification") length(unique(df$y)) else 0L,
    source = source
  )
}
md <- function(name) {
  e <- new.env()
  utils::data(list = name, package = "modeldata", envir = e)
  as.data.frame(e[[name]])
}
caret_data <- new.env()
utils::data(list = c("dhfr", "mdrr", "cox2", "BloodBrain"), package = "caret", envir = caret_data)

## Classification
add("iris", "classification", "datasets::iris", iris, "Species")
wine <- read.csv(file.path(sk, "wine_data.csv"), skip = 1, header = FALSE)
names(wine) <- c(paste0("x", 1:13), "class")
add("wine", "classification", "scikit-learn wine_data.csv", wine, "class")
bc <- read.csv(file.path(sk, "breast_cancer.csv"), skip = 1, header = FALSE)
names(bc) <- c(paste0("x", 1:30), "class")
add("breast_cancer", "classification", "scikit-learn breast_cancer.csv", bc, "class")
add("crabs", "classification", "MASS::crabs (species; index dropped)",
    MASS::crabs[, c("sp", "sex", "FL", "RW", "CL", "CW", "BD")], "sp")
add("penguins", "classification", "palmerpenguins::penguins (species)",
    palmerpenguins::penguins[, 1:7], "species")
add("attrition", "classification", "modeldata::attrition", md("attrition"), "Attrition")
add("stackoverflow", "classification", "modeldata::stackoverflow (Remote)", md("stackoverflow"), "Remote")
wa_churn <- md("wa_churn")
wa_churn$customer_id <- NULL
add("churn", "classification", "modeldata::wa_churn (customer_id dropped)", wa_churn, "churn")
add("credit", "classification", "modeldata::credit_data (Status)", md("credit_data"), "Status")
digits <- read.csv(gzfile(file.path(sk, "digits.csv.gz")), header = FALSE)
names(digits) <- c(paste0("p", 1:64), "digit")
add("digits", "classification", "scikit-learn digits.csv.gz", digits, "digit")
diamonds <- as.data.frame(ggplot2::diamonds)
diamonds[c("cut", "color", "clarity")] <- lapply(diamonds[c("cut", "color", "clarity")], as.character)
add("diamonds_cut", "classification", "ggplot2::diamonds (cut)", diamonds, "cut")
olive <- dslabs::olive
olive$region <- NULL
add("olive", "classification", "dslabs::olive (9 areas; region dropped)", olive, "area")
add("ais", "classification", "DAAG::ais (sport)", DAAG::ais, "sport")
tissue <- data.frame(dslabs::tissue_gene_expression$x, tissue = dslabs::tissue_gene_expression$y)
add("tissue_gene", "classification", "dslabs::tissue_gene_expression (7 tissues x 500 genes)", tissue, "tissue")
add("oils", "classification", "modeldata::oils", md("oils"), "class")
vehicles <- as.data.frame(fueleconomy::vehicles)
vehicles <- vehicles[vehicles$year < 2010, setdiff(names(vehicles), c("id", "model"))]
vehicles <- vehicles[vehicles$class %in% names(which(table(vehicles$class) >= 100)), ]
add("vehicles_class", "classification",
    "fueleconomy::vehicles (class; model years before 2010, classes of 100+ rows; id and model dropped)",
    vehicles, "class")
movies <- as.data.frame(ggplot2movies::movies)
genres <- c("Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short")
movies <- movies[rowSums(movies[genres]) == 1, ]
movies$genre <- genres[max.col(movies[genres])]
movies$mpaa[movies$mpaa == ""] <- "none"
movies <- movies[setdiff(names(movies), c("title", "budget", genres))]
add("movies_genre", "classification",
    "ggplot2movies::movies (genre of the films with exactly one of the 7; title and budget dropped)",
    movies, "genre")
fielding <- as.data.frame(Lahman::Fielding)
fielding <- fielding[fielding$yearID >= 1990 & fielding$POS %in% c("1B", "2B", "3B", "C", "OF", "P", "SS"),
                     c("POS", "G", "GS", "InnOuts", "PO", "A", "E", "DP")]
fielding <- fielding[stats::complete.cases(fielding), ]
set.seed(20240601)
fielding <- fielding[sort(sample(nrow(fielding), 60000)), ]
add("fielding", "classification",
    "Lahman::Fielding (POS from fielding counts, seasons 1990 on; subsample of 60000 rows)",
    fielding, "POS")
fastfood <- as.data.frame(openintro::fastfood)
fastfood <- fastfood[setdiff(names(fastfood), c("item", "salad", "vit_a", "vit_c", "calcium"))]
add("fastfood", "classification", "openintro::fastfood (restaurant from nutrition; item dropped)", fastfood, "restaurant")
mlb <- as.data.frame(openintro::mlb_players_18)
mlb <- mlb[mlb$AB >= 100 & !mlb$position %in% c("P", "DH"), setdiff(names(mlb), c("name", "team"))]
add("mlb_position", "classification",
    "openintro::mlb_players_18 (fielding position from batting; 100+ at bats, no P or DH)", mlb, "position")
forbes <- HSAUR3::Forbes2000
forbes$rank <- NULL
forbes$name <- NULL
add("forbes", "classification", "HSAUR3::Forbes2000 (category; rank and name dropped)", forbes, "category")
storms <- as.data.frame(dplyr::storms)
storms <- storms[setdiff(names(storms), c("name", "category", "tropicalstorm_force_diameter",
                                          "hurricane_force_diameter"))]
add("storms", "classification", paste0("dplyr::storms (status; name, category and diameters dropped; dplyr ",
    utils::packageVersion("dplyr"), ")"), storms, "status")
txhousing <- as.data.frame(ggplot2::txhousing)
txhousing$date <- NULL
add("txhousing_city", "classification", "ggplot2::txhousing (city from monthly sales figures; date dropped)",
    txhousing, "city")
pd <- md("pd_speech")
add("pd_speech", "classification", "modeldata::pd_speech", pd, "class")
add("dhfr", "classification", "caret::dhfr", caret_data$dhfr, "Y")
add("mdrr", "classification", "caret::mdrr (mdrrDescr, mdrrClass)",
    data.frame(caret_data$mdrrDescr, class = caret_data$mdrrClass), "class")
add("arrests", "classification", "carData::Arrests (released)", carData::Arrests, "released")
add("titanic", "classification", "carData::TitanicSurvival (survived)", carData::TitanicSurvival, "survived")
ces11 <- carData::CES11
ces11$id <- NULL
ces11$weight <- NULL
add("ces11", "classification", "carData::CES11 (abortion; id and weight dropped)", ces11, "abortion")

## Regression
diab_x <- read.csv(gzfile(file.path(sk, "diabetes_data_raw.csv.gz")), sep = " ", header = FALSE)
diab_y <- read.csv(gzfile(file.path(sk, "diabetes_target.csv.gz")), header = FALSE)[[1]]
diab <- data.frame(diab_x, target = diab_y)
add("diabetes", "regression", "scikit-learn diabetes_data_raw.csv.gz", diab, "target")
ames <- md("ames")
ames$Sale_Price <- log10(ames$Sale_Price)
add("ames", "regression", "modeldata::ames (log10 Sale_Price)", ames, "Sale_Price")
add("biomass", "regression", "modeldata::biomass (HHV from the elements)",
    md("biomass")[, c("carbon", "hydrogen", "oxygen", "nitrogen", "sulfur", "HHV")], "HHV")
add("airquality", "regression", "datasets::airquality (Ozone)", airquality, "Ozone")
add("quakes", "regression", "datasets::quakes (mag)", quakes, "mag")
add("slid", "regression", "carData::SLID (wages)", carData::SLID, "wages")
check_times <- md("check_times")
check_times$package <- NULL
check_times$check_time <- log10(check_times$check_time)
add("check_times", "regression", "modeldata::check_times (log10 check_time; package dropped)", check_times, "check_time")
diamonds$price <- log10(diamonds$price)
add("diamonds", "regression", "ggplot2::diamonds (log10 price)", diamonds, "price")
add("atmos", "regression", "nasaweather::atmos (ozone)", nasaweather::atmos, "ozone")
gss <- carData::GSSvocab
gss$year <- as.integer(as.character(gss$year))
add("gssvocab", "regression", "carData::GSSvocab (vocab)", gss, "vocab")
car_prices <- md("car_prices")
car_prices$Price <- log10(car_prices$Price)
add("car_prices", "regression", "modeldata::car_prices (log10 Price)", car_prices, "Price")
sacramento <- md("Sacramento")
sacramento$price <- log10(sacramento$price)
add("sacramento", "regression", "modeldata::Sacramento (log10 price)", sacramento, "price")
chicago <- md("Chicago")
chicago$dow <- weekdays(chicago$date)
chicago$date <- NULL
add("chicago", "regression", "modeldata::Chicago (ridership; date replaced by its weekday)", chicago, "ridership")
meats <- md("meats")
meats$water <- NULL
meats$protein <- NULL
add("meats", "regression", "modeldata::meats (fat; water and protein dropped)", meats, "fat")
add("bloodbrain", "regression", "caret::BloodBrain (bbbDescr, logBBB)",
    data.frame(caret_data$bbbDescr, logBBB = caret_data$logBBB), "logBBB")
add("cox2", "regression", "caret::cox2 (cox2Descr, log10 cox2IC50)",
    data.frame(caret_data$cox2Descr, ic50 = log10(caret_data$cox2IC50)), "ic50")
gas_env <- new.env()
utils::data("gasoline", package = "pls", envir = gas_env)
nir <- unclass(gas_env$gasoline$NIR)
colnames(nir) <- paste0("nm", sub(" nm", "", colnames(nir)))
add("gasoline", "regression", "pls::gasoline (octane from 401 NIR wavelengths)",
    data.frame(nir, octane = gas_env$gasoline$octane), "octane")
cpus <- MASS::cpus[, c("syct", "mmin", "mmax", "cach", "chmin", "chmax", "perf")]
cpus$perf <- log10(cpus$perf)
add("cpus", "regression", "MASS::cpus (log10 perf; name and estperf dropped)", cpus, "perf")
solder <- rpart::solder
solder$skips <- log10(1 + solder$skips)
add("solder", "regression", "rpart::solder (log10 of 1 + skips)", solder, "skips")
utils::write.csv(do.call(rbind, sets), file.path(out, "index.csv"), row.names = FALSE)
