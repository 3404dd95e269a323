#!/usr/bin/env Rscript
# Goldens for tests/test_cohort.cpp: median follow-up by the reverse Kaplan-Meier method
# (censoring as the event), from R's survival package.
# Run from the repository root: Rscript scripts/make-data-goldens.R
suppressPackageStartupMessages(library(survival))
set.seed(20240229)
sets <- list(
  ties = data.frame(time = c(1, 2, 2, 3, 4, 4, 5, 6, 7, 8), event = c(1, 0, 1, 0, 0, 1, 0, 0, 1, 0)),
  exact_half = data.frame(time = c(1, 2, 3, 4), event = c(0, 0, 0, 0)),
  last_half = data.frame(time = c(1, 2, 3, 4, 5, 6), event = c(1, 1, 1, 1, 0, 1)),
  none_censored = data.frame(time = c(1, 2, 3), event = c(1, 1, 1)),
  cohort = data.frame(time = round(runif(200, 3, 120), 1), event = rbinom(200, 1, 0.15))
)
out <- file("tests/data/data/reverse_km.csv", "w")
writeLines(sprintf("# reverse Kaplan-Meier median follow-up; R %s, survival %s; Rscript scripts/make-data-goldens.R",
                   paste(R.version$major, R.version$minor, sep = "."), packageVersion("survival")), out)
writeLines("kind,set,time,event", out)
for (name in names(sets)) {
  d <- sets[[name]]
  for (i in seq_len(nrow(d))) writeLines(sprintf("row,%s,%s,%d", name, format(d$time[i]), d$event[i]), out)
  fit <- survfit(Surv(time, 1 - event) ~ 1, data = d)
  m <- summary(fit)$table[["median"]]
  writeLines(sprintf("median,%s,%s,", name, ifelse(is.na(m), "NA", format(m, digits = 15))), out)
}
close(out)
