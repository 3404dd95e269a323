#!/usr/bin/env Rscript
# Golden values for the group comparison tests of Table 1 (src/stats/group_tests.cpp,
# src/report/table1.cpp), computed by R's stats package: chisq.test, kruskal.test and
# oneway.test(var.equal = TRUE), on small data sets with ties, empty levels, empty groups and
# missing values, plus a patient-level Table 1 with its p-values.
# Run from the repository root:  Rscript scripts/table1_golden.R
# Writes tests/data/stats/group_tests.json. Needs r-cran-jsonlite.
suppressMessages(library(jsonlite))
out_dir <- "tests/data/stats"
ref <- out_dir  # aSAH.csv (pROC's data set; tests/data/stats/PROVENANCE.md)

# A NaN / NA result (R stops or returns NaN) is stored as null, an infinite one as "Inf".
num <- function(v) if (is.null(v) || length(v) == 0 || is.na(v)) NA else if (is.infinite(v)) "Inf" else unname(v)
safe <- function(expr) tryCatch(expr, error = function(e) NULL)

# chisq.test on the table with its all-zero rows / columns dropped: the same as
# chisq.test(table(droplevels(group), droplevels(level))); R returns NaN when they are kept.
chisq_case <- function(name, counts, correct = TRUE) {
  x <- counts[rowSums(counts) > 0, colSums(counts) > 0, drop = FALSE]
  t <- if (nrow(x) >= 2 && ncol(x) >= 2) suppressWarnings(chisq.test(x, correct = correct)) else NULL
  list(name = name, counts = counts, correct = correct,
       statistic = num(t$statistic), df = num(t$parameter), p = num(t$p.value),
       min_expected = if (is.null(t)) NA else min(t$expected))
}

# groups: a list of numeric vectors (NA = missing). R's formula interface drops the NAs and the
# unused factor levels (empty groups).
long <- function(groups) list(y = unlist(groups), g = factor(rep(seq_along(groups), lengths(groups)),
                                                          levels = seq_along(groups)))
kruskal_case <- function(name, groups) {
  d <- long(groups)
  t <- safe(kruskal.test(d$y, d$g))
  list(name = name, groups = groups, statistic = num(t$statistic), df = num(t$parameter), p = num(t$p.value))
}
oneway_case <- function(name, groups) {
  d <- long(groups)
  t <- safe(oneway.test(y ~ g, data = data.frame(y = d$y, g = d$g), var.equal = TRUE))
  list(name = name, groups = groups, statistic = num(t$statistic), df = num(t$parameter[1]),
       df2 = num(t$parameter[2]), p = num(t$p.value))
}

set.seed(20261129)
out <- list()

# ---- chi-squared --------------------------------------------------------------------------------
asah <- read.csv(file.path(ref, "aSAH.csv"))
tab_asah <- unclass(table(asah$wfns, asah$gender))
out$chisq <- list(
  chisq_case("3x4", rbind(c(20, 15, 9, 6), c(12, 14, 10, 4), c(8, 13, 5, 9))),
  chisq_case("3x4 empty level", rbind(c(20, 0, 9, 6), c(12, 0, 10, 4), c(8, 0, 5, 9))),
  chisq_case("3x3 empty group", rbind(c(7, 5, 2), c(0, 0, 0), c(3, 9, 4))),
  chisq_case("3x3 small expected", rbind(c(4, 1, 0), c(2, 3, 1), c(1, 0, 3))),
  chisq_case("3x2 yes/no", rbind(c(41, 19), c(28, 12), c(30, 10))),
  chisq_case("2x2 Yates", rbind(c(12, 5), c(6, 11))),
  chisq_case("2x2 no correction", rbind(c(12, 5), c(6, 11)), correct = FALSE),
  chisq_case("2x2 Yates capped by |O-E|", rbind(c(10, 10), c(10, 10.4))),
  chisq_case("3x2 after dropping a group (Yates)", rbind(c(9, 3), c(4, 8), c(0, 0))),
  chisq_case("one group with data", rbind(c(5, 4, 3), c(0, 0, 0), c(0, 0, 0))),
  chisq_case("one level with data", rbind(c(5, 0), c(4, 0), c(3, 0))),
  chisq_case("aSAH wfns x gender", tab_asah))

# ---- Kruskal-Wallis and one-way ANOVA ---------------------------------------------------------
ties <- list(round(rnorm(25, 50, 10)), round(rnorm(18, 53, 10)), round(rnorm(21, 47, 12)))
ties[[1]][c(3, 11)] <- NA
ties[[3]][5] <- NA
coarse <- list(sample(1:4, 15, TRUE), sample(1:4, 12, TRUE), sample(2:5, 14, TRUE))
cases <- list(
  list("ties and missing values", ties),
  list("coarse scale, heavy ties", coarse),
  list("empty group", list(c(3.1, 4.7, 2.2, 5.0, 4.7), c(NA, NA), c(6.3, 5.9, 7.7, 5.9))),
  list("small groups", list(c(1, 2), c(2, 3, 3), c(5, 4))),
  list("constant within groups", list(c(1, 1, 1), c(2, 2), c(3, 3, 3))),
  list("singleton group", list(c(1.5, 2.5, 3.5), 4.2, c(2.0, 2.2))),
  list("all identical", list(c(2, 2, 2), c(2, 2), c(2, 2, 2, 2))),
  list("one group with data", list(c(1, 2, 3), numeric(0), c(NA, NA))),
  list("aSAH s100b by wfns", split(asah$s100b, asah$wfns)),
  list("aSAH age by outcome", split(as.numeric(asah$age), asah$outcome)))
out$kruskal <- lapply(cases, function(c) kruskal_case(c[[1]], unname(c[[2]])))
out$oneway <- lapply(cases, function(c) oneway_case(c[[1]], unname(c[[2]])))

# ---- a patient-level Table 1 --------------------------------------------------------------------
n <- 48
cohort <- factor(rep(c("train", "internal", "external"), c(22, 14, 12)), levels = c("train", "internal", "external"))
age <- round(rnorm(n, 50, 9)); age[c(4, 30)] <- NA
bmi <- round(rnorm(n, 25 + 2 * (cohort == "external"), 3), 1); bmi[17] <- NA
stage_levels <- c("IB", "IIA", "IIB", "IIIC")  # IIA: nobody
stage <- factor(sample(c("IB", "IIB", "IIIC"), n, TRUE, prob = c(.5, .3, .2)), levels = stage_levels)
stage[c(2, 40)] <- NA
marker <- round(rexp(n, 0.2), 1); marker[cohort == "external"] <- NA  # not measured externally
grade <- rep(2, n)                                                   # a constant
recurrence <- rbinom(n, 1, ifelse(cohort == "external", 0.2, 0.35))
report <- rbinom(n, 1, 0.8)
f1 <- function(x) sprintf("%.1f", x)
med <- function(x) { x <- x[!is.na(x)]; if (!length(x)) return("NA")
  q <- quantile(x, c(.5, .25, .75), type = 7); sprintf("%s [%s, %s]", f1(q[1]), f1(q[2]), f1(q[3])) }
msd <- function(x) { x <- x[!is.na(x)]; sprintf("%s (%s)", f1(mean(x)), f1(sd(x))) }
fp <- function(p) if (is.na(p)) "NA" else if (p < 0.001) "< 0.001" else sprintf("%.3f", p)
chisq_p <- function(x, g) { tab <- table(g, x); tab <- tab[rowSums(tab) > 0, colSums(tab) > 0, drop = FALSE]
  if (nrow(tab) < 2 || ncol(tab) < 2) return(list(p = NA, small = FALSE))
  t <- suppressWarnings(chisq.test(tab)); list(p = t$p.value, small = min(t$expected) < 5) }
kw_p <- function(x) { t <- safe(kruskal.test(x, cohort)); num(t$p.value) }
by_cohort <- function(f) unname(sapply(levels(cohort), function(c) f(c)))
rows <- list()
add <- function(characteristic, cells, p = NULL, test = "") rows[[length(rows) + 1]] <<-
  list(characteristic = characteristic, cells = cells, has_test = !is.null(p), p = if (is.null(p)) NA else num(p),
       p_text = if (is.null(p)) "" else fp(num(p)), test = test)
chi_name <- function(r) if (r$small) "chi-squared, expected < 5" else "chi-squared"
r <- chisq_p(recurrence, cohort)
add("recurrence", by_cohort(function(c) { k <- sum(recurrence[cohort == c]); m <- sum(cohort == c)
  sprintf("%d (%s%%)", k, f1(100 * k / m)) }), r$p, chi_name(r))
r <- chisq_p(report, cohort)
add("report available", by_cohort(function(c) { k <- sum(report[cohort == c]); m <- sum(cohort == c)
  sprintf("%d (%s%%)", k, f1(100 * k / m)) }), r$p, chi_name(r))
add("age (years), median [IQR]", by_cohort(function(c) med(age[cohort == c])), kw_p(age), "Kruskal-Wallis")
t <- oneway.test(bmi ~ cohort, var.equal = TRUE)
add("bmi (kg/m2), mean (SD)", by_cohort(function(c) msd(bmi[cohort == c])), t$p.value, "ANOVA")
r <- chisq_p(stage, cohort)
for (l in stage_levels) {
  # percentages of the cohort's patients with a stage (missing values left out, as tableone)
  cells <- by_cohort(function(c) { k <- sum(stage[cohort == c] == l, na.rm = TRUE); m <- sum(!is.na(stage[cohort == c]))
    sprintf("%d (%s%%)", k, f1(100 * k / m)) })
  if (l == stage_levels[1]) add(paste("stage =", l), cells, r$p, chi_name(r)) else add(paste("stage =", l), cells)
}
add("marker, median [IQR]", by_cohort(function(c) med(marker[cohort == c])), kw_p(marker), "Kruskal-Wallis")
add("grade, median [IQR]", by_cohort(function(c) med(grade[cohort == c])), kw_p(grade), "Kruskal-Wallis")
out$table1 <- list(
  groups = levels(cohort), group_n = as.integer(table(cohort)),
  patients = list(cohort = as.integer(cohort) - 1L, recurrence = recurrence, report = report, age = age, bmi = bmi,
                  stage = as.integer(stage) - 1L, marker = marker, grade = grade),
  stage_levels = stage_levels, rows = rows)

out$provenance <- paste0("Rscript scripts/table1_golden.R; ", R.version.string, "; stats::chisq.test (rows/columns ",
                         "that are all zero dropped first), stats::kruskal.test, stats::oneway.test(var.equal = TRUE); ",
                         "jsonlite ", packageVersion("jsonlite"))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null", null = "null"),
           file.path(out_dir, "group_tests.json"))
