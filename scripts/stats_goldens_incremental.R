#!/usr/bin/env Rscript
# Golden values for tests/test_stats_incremental.cpp: logistic regression (glm), the likelihood-
# ratio test of nested logistic models (anova), the continuous NRI and the IDI, maxstat's
# Lau94 / Lau92 p-values and the reverse Kaplan-Meier median follow-up.
# Run from the repository root:  Rscript scripts/stats_goldens_incremental.R
# Reads tests/data/stats/{aSAH,binary,surv_ties,lung,aml}.csv; writes
# tests/data/stats/incremental.json. Needs r-cran-survival, r-cran-maxstat, r-cran-jsonlite.
# NRI and IDI have no Debian-packaged R implementation: they are written out below from their
# definitions (Pencina et al. 2008, 2011).
suppressMessages({library(survival); library(maxstat); library(jsonlite)})
dir <- "tests/data/stats"
out <- list()

# ---- logistic regression (glm) ------------------------------------------------------------------
asah <- read.csv(file.path(dir, "aSAH.csv")); asah$y <- as.integer(asah$outcome == "Poor")
bin <- read.csv(file.path(dir, "binary.csv")); bin$male <- as.integer(bin$sex == "M")
glm_out <- function(g) {
  s <- summary(g)$coefficients
  list(coef = unname(coef(g)), se = unname(s[, 2]), z = unname(s[, 3]), p = unname(s[, 4]),
       vcov = unname(vcov(g)), deviance = g$deviance, null_deviance = g$null.deviance, aic = g$aic,
       df_residual = g$df.residual, iter = g$iter, converged = g$converged)
}
out$glm <- list(
  asah_age_s100b_ndka = glm_out(glm(y ~ age + s100b + ndka, family = binomial, data = asah)),
  asah_intercept_only = glm_out(glm(y ~ 1, family = binomial, data = asah)),
  binary_marker_male = glm_out(glm(y ~ marker + male, family = binomial, data = bin)))
# complete separation: glm stops after 25 iterations with converged = FALSE
sep <- data.frame(x = c(1:10, 5.5), y = c(as.integer(1:10 > 5), 0L))
out$glm$separation <- c(list(x = sep$x, y = sep$y),
  glm_out(suppressWarnings(glm(y ~ x, family = binomial, data = sep))))

# ---- likelihood-ratio test of nested models (anova(..., test = "LRT")) --------------------------
lrt <- function(small, big) {
  a <- anova(small, big, test = "LRT")
  list(deviance_base = a[["Resid. Dev"]][1], deviance_full = a[["Resid. Dev"]][2], chisq = a$Deviance[2],
       df = a$Df[2], p = a[["Pr(>Chi)"]][2])
}
out$lrt <- list(
  asah_age_plus_s100b_ndka = lrt(glm(y ~ age, family = binomial, data = asah),
                                 glm(y ~ age + s100b + ndka, family = binomial, data = asah)),
  asah_null_plus_s100b = lrt(glm(y ~ 1, family = binomial, data = asah),
                             glm(y ~ s100b, family = binomial, data = asah)),
  binary_marker_plus_male = lrt(glm(y ~ marker, family = binomial, data = bin),
                                glm(y ~ marker + male, family = binomial, data = bin)))

# ---- continuous NRI (Pencina, Steyerberg & D'Agostino 2011) and IDI (Pencina et al. 2008) --------
# Written from the definitions: up = p_new > p_old, down = p_new < p_old (ties: neither).
nri_idi <- function(p_old, p_new, y) {
  e <- y == 1; ne <- y == 0
  up <- p_new > p_old; down <- p_new < p_old
  nri_e <- mean(up[e]) - mean(down[e]); nri_ne <- mean(down[ne]) - mean(up[ne])
  slope_new <- mean(p_new[e]) - mean(p_new[ne]); slope_old <- mean(p_old[e]) - mean(p_old[ne])
  list(p_old = p_old, p_new = p_new, y = y,
       nri = nri_e + nri_ne, nri_events = nri_e, nri_nonevents = nri_ne,
       up_events = mean(up[e]), down_events = mean(down[e]), up_nonevents = mean(up[ne]), down_nonevents = mean(down[ne]),
       idi = slope_new - slope_old, slope_new = slope_new, slope_old = slope_old,
       n_events = sum(e), n_nonevents = sum(ne))
}
# aSAH: fitted probabilities of y ~ age (old) and y ~ age + s100b + ndka (new), rounded to 12
# significant digits so that the values written below are exactly those used.
p_old <- signif(fitted(glm(y ~ age, family = binomial, data = asah)), 12)
p_new <- signif(fitted(glm(y ~ age + s100b + ndka, family = binomial, data = asah)), 12)
# binary.csv: p_new rounded to 2 decimals like prob, so that many predictions are tied (neither up nor down)
b_new <- round(plogis(qlogis(bin$prob) + 0.4 * bin$marker), 2)
out$nri_idi <- list(asah = nri_idi(unname(p_old), unname(p_new), asah$y),
                    binary = nri_idi(bin$prob, b_new, bin$y))

# ---- maxstat p-values (Lausen & Schumacher 1992, Lausen, Sauerbrei & Schumacher 1994) -------------
lung <- read.csv(file.path(dir, "lung.csv")); lung$event <- as.integer(lung$status == 2)
ties <- read.csv(file.path(dir, "surv_ties.csv"))
ms <- function(d, tm, ev, sc) {
  d <- d[complete.cases(d[, c(tm, ev, sc)]), ]
  f <- as.formula(paste0("Surv(", tm, ", ", ev, ") ~ ", sc))
  r94 <- maxstat.test(f, data = d, smethod = "LogRank", pmethod = "Lau94", minprop = 0.1, maxprop = 0.9)
  r92 <- maxstat.test(f, data = d, smethod = "LogRank", pmethod = "Lau92", minprop = 0.1, maxprop = 0.9)
  list(data = d, n = nrow(d), cut = unname(r94$estimate), statistic = unname(r94$statistic),
       p_lau94 = r94$p.value, p_lau92 = r92$p.value)
}
mres <- list(lung_age = ms(lung, "time", "event", "age"), lung_ph_karno = ms(lung, "time", "event", "ph.karno"),
             ties_score = ms(ties, "time", "status", "score"), ties_x1 = ms(ties, "time", "status", "x1"),
             ties_x2 = ms(ties, "time", "status", "x2"))
out$maxstat <- lapply(mres, function(r) r[names(r) != "data"])
# the exported p-value functions on a grid of statistics (fixed low-group sizes m of n = 300)
grid_b <- c(0, 0.5, 0.99, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 7.5)
grid_m <- c(30, 41, 55, 70, 100, 150, 151, 200, 260, 270)
out$maxstat_functions <- list(b = grid_b, n = 300, m = grid_m,
  lau94 = sapply(grid_b, function(b) pLausen94(b, 300, 0.1, 0.9, m = grid_m)),
  lau94_one_cut = sapply(grid_b, function(b) pLausen94(b, 300, 0.1, 0.9, m = 150)),
  lau92 = sapply(grid_b, function(b) pLausen92(b, 0.1, 0.9)),
  lau92_0.25 = sapply(grid_b, function(b) pLausen92(b, 0.25, 0.75)))

# ---- median follow-up, reverse Kaplan-Meier (Schemper & Smith 1996) -----------------------------
aml <- read.csv(file.path(dir, "aml.csv"))
tc <- ties[complete.cases(ties), ]
fu <- function(time, event, times, conf = "log") {
  f <- survfit(Surv(time, 1 - event) ~ 1, conf.type = conf)
  tab <- summary(f)$table
  s <- summary(f, times = times)
  # summary(times = ) drops the times after the last observed time: NA there
  at <- rep(NA_real_, length(times)); at[match(s$time, times)] <- s$surv
  list(time = time, event = event, n = unname(tab["records"]), censored = sum(event == 0),
       median = unname(tab["median"]), median_ci = unname(tab[c("0.95LCL", "0.95UCL")]),
       times = times, surv = at)
}
out$follow_up <- list(
  lung = fu(lung$time, lung$event, c(0, 5, 100, 365, 500.5, 730, 1022, 1100)),
  lung_loglog = fu(lung$time, lung$event, c(365), conf = "log-log"),
  aml = fu(aml$time, aml$status, c(1, 9, 13, 30, 45, 100, 161, 200)),
  ties = fu(tc$time, tc$status, c(1, 2, 3, 7, 12, 20, 25, 30)))

out$provenance <- paste0("Rscript scripts/stats_goldens_incremental.R; ", R.version.string,
  "; survival ", packageVersion("survival"), ", maxstat ", packageVersion("maxstat"),
  ", jsonlite ", packageVersion("jsonlite"),
  ". glm/anova from R's stats package; maxstat.test(smethod = 'LogRank', pmethod = 'Lau94'/'Lau92', ",
  "minprop = 0.1, maxprop = 0.9) and pLausen94/pLausen92; reverse Kaplan-Meier = ",
  "survfit(Surv(time, 1 - event) ~ 1). NRI (continuous) and IDI are not packaged for Debian: ",
  "computed by plain R code in the script from Pencina et al. 2008 / 2011.")
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
           file.path(dir, "incremental.json"))
