#!/usr/bin/env Rscript
# Golden values for tests/test_stats*.cpp, computed by the R reference implementations.
# Run from the repository root:  Rscript scripts/stats_goldens.R
# Writes tests/data/stats/{surv_ties.csv, binary.csv, goldens.json}. Needs r-cran-survival,
# r-cran-proc, r-cran-maxstat, r-cran-jsonlite. The aSAH/aml/lung/ovarian data are read from
# tests/data/stats (exported unchanged from pROC / survival; tests/data/stats/PROVENANCE.md).
suppressMessages({library(survival); library(pROC); library(maxstat); library(jsonlite)})
out_dir <- "tests/data/stats"
ref <- out_dir
out <- list()

# ---- synthetic data with ties (fixed seed) ------------------------------------------------
set.seed(20240611)
n <- 300
grp <- sample(c("A", "B", "C"), n, replace = TRUE)
stage <- sample(c("I", "II", "III"), n, replace = TRUE, prob = c(.5, .3, .2))
x1 <- round(rnorm(n), 3)
x2 <- sample(0:4, n, replace = TRUE)  # heavily tied covariate
lin <- 0.5 * x1 + 0.3 * x2 + ifelse(stage == "II", 0.4, ifelse(stage == "III", 0.9, 0)) + ifelse(grp == "B", 0.3, 0)
t_event <- rexp(n, 0.1 * exp(lin))
t_cens <- runif(n, 2, 25)
time <- pmax(1, ceiling(pmin(t_event, t_cens)))  # integer days: many tied times
status <- as.integer(t_event <= t_cens)
score <- round(lin + rnorm(n, sd = 0.5), 1)       # tied risk scores
surv <- data.frame(time, status, grp, stage, x1, x2, score)
surv$x1[c(7, 19)] <- NA                           # missing values: rows dropped by the CLI
write.csv(surv, file.path(out_dir, "surv_ties.csv"), row.names = FALSE)
sc <- surv[complete.cases(surv), ]

m <- 240
yb <- rbinom(m, 1, 0.35)
lp <- -0.6 + 1.2 * (yb - 0.35) + rnorm(m, sd = 0.9)
prob <- round(plogis(lp), 2)
prob[prob <= 0] <- 0.01; prob[prob >= 1] <- 0.99
marker <- round(lp + rnorm(m, sd = 0.7), 1)
bin <- data.frame(y = yb, prob, marker, sex = sample(c("F", "M"), m, replace = TRUE))
write.csv(bin, file.path(out_dir, "binary.csv"), row.names = FALSE)

# ---- discrimination (pROC) ------------------------------------------------------------------
d <- read.csv(file.path(ref, "aSAH.csv")); y <- as.integer(d$outcome == "Poor")
roc1 <- function(yy, s) roc(yy, s, direction = "<", levels = c(0, 1), quiet = TRUE)
a <- list()
for (s in c("s100b", "ndka", "wfns")) {
  r <- roc1(y, d[[s]]); ci <- ci.auc(r, method = "delong")
  best <- coords(r, "best", best.method = "youden", ret = c("threshold", "sensitivity", "specificity", "tp", "fp", "tn", "fn"), transpose = FALSE)
  a[[s]] <- list(auc = as.numeric(auc(r)), ci_delong = c(ci[1], ci[3]), var_delong = var(r, method = "delong"), youden = as.list(best[1, ]))
}
pairs <- list(c("s100b", "ndka"), c("s100b", "wfns"), c("ndka", "wfns"))
pt <- lapply(pairs, function(p) { t <- roc.test(roc1(y, d[[p[1]]]), roc1(y, d[[p[2]]]), method = "delong", paired = TRUE)
  list(a = p[1], b = p[2], z = unname(t$statistic), p = t$p.value, diff_ci = as.numeric(t$conf.int)) })
ph <- p.adjust(sapply(pt, `[[`, "p"), "holm")
for (i in seq_along(pt)) pt[[i]]$p_holm <- ph[i]
a$paired <- pt
male <- d$gender == "Male"
tu <- roc.test(roc1(y[male], d$s100b[male]), roc1(y[!male], d$s100b[!male]), method = "delong", paired = FALSE)
a$unpaired_s100b_male_vs_female <- list(t = unname(tu$statistic), df = unname(tu$parameter), p = tu$p.value)
set.seed(42)
cb <- ci.auc(roc1(y, d$s100b), method = "bootstrap", boot.n = 2000, boot.stratified = TRUE, progress = "none")
a$bootstrap_s100b <- c(cb[1], cb[3])
r <- roc1(y, d$s100b)
co <- coords(r, "all", ret = c("threshold", "sensitivity", "specificity"), transpose = FALSE)
a$roc_curve_s100b <- list(threshold = co$threshold, sensitivity = co$sensitivity, specificity = co$specificity)
# operating point at a fixed threshold: positive when s100b >= 0.2
pos <- d$s100b >= 0.2
tp <- sum(pos & y == 1); fn <- sum(!pos & y == 1); fp <- sum(pos & y == 0); tn <- sum(!pos & y == 0)
wil <- function(k, nn) as.numeric(prop.test(k, nn, correct = FALSE)$conf.int)
cp <- function(k, nn) as.numeric(binom.test(k, nn)$conf.int)
a$operating_0.2 <- list(tp = tp, fp = fp, tn = tn, fn = fn,
  wilson = list(sensitivity = wil(tp, tp + fn), specificity = wil(tn, tn + fp), ppv = wil(tp, tp + fp), npv = wil(tn, tn + fn), accuracy = wil(tp + tn, length(y))),
  clopper_pearson = list(sensitivity = cp(tp, tp + fn), specificity = cp(tn, tn + fp), ppv = cp(tp, tp + fp), npv = cp(tn, tn + fn), accuracy = cp(tp + tn, length(y))))
a$prop_edge <- list(wilson_0_10 = wil(0, 10), wilson_10_10 = wil(10, 10), cp_0_10 = cp(0, 10), cp_10_10 = cp(10, 10))
out$aSAH <- a

# ---- survival ---------------------------------------------------------------------------------
s <- list()
for (ct in c("log", "log-log", "plain")) {
  f <- survfit(Surv(time, status) ~ grp, data = sc, conf.type = ct)
  sm <- summary(f); tab <- summary(f)$table
  s[[paste0("km_", ct)]] <- lapply(c("A", "B", "C"), function(g) { k <- sm$strata == paste0("grp=", g)
    list(name = g, time = sm$time[k], n_risk = sm$n.risk[k], n_event = sm$n.event[k], surv = sm$surv[k], std_err = sm$std.err[k],
         lower = sm$lower[k], upper = sm$upper[k], median = unname(tab[paste0("grp=", g), "median"]),
         median_ci = unname(tab[paste0("grp=", g), c("0.95LCL", "0.95UCL")])) })
}
f <- survfit(Surv(time, status) ~ 1, data = sc)
st <- summary(f, times = c(3, 7.5, 12, 20))
s$km_at <- list(times = c(3, 7.5, 12, 20), time = st$time, n_risk = st$n.risk, n_event = st$n.event, surv = st$surv, std_err = st$std.err, lower = st$lower, upper = st$upper)
for (rho in c(0, 1)) { sd <- survdiff(Surv(time, status) ~ grp, data = sc, rho = rho)
  s[[paste0("logrank_rho", rho)]] <- list(chisq = sd$chisq, obs = as.numeric(sd$obs), exp = as.numeric(sd$exp)) }
for (ties in c("efron", "breslow")) {
  mm <- coxph(Surv(time, status) ~ x1 + x2 + factor(stage) + grp, data = sc, ties = ties)
  s[[paste0("cox_", ties)]] <- list(coef = unname(coef(mm)), se = unname(sqrt(diag(vcov(mm)))), loglik = mm$loglik,
    wald = unname(mm$wald.test), score = unname(mm$score), iter = mm$iter, concordance = unname(concordance(mm)$concordance))
}
cc <- concordance(Surv(time, status) ~ score, data = sc, reverse = TRUE)
s$cindex_score <- list(c = cc$concordance, var = cc$var, count = as.list(cc$count))
ms <- maxstat.test(Surv(time, status) ~ score, data = sc, smethod = "LogRank", pmethod = "none", minprop = 0.1, maxprop = 0.9)
s$maxstat_score <- list(cut = unname(ms$estimate), statistic = unname(ms$statistic))
ms2 <- maxstat.test(Surv(time, status) ~ x1, data = sc, smethod = "LogRank", pmethod = "none", minprop = 0.1, maxprop = 0.9)
s$maxstat_x1 <- list(cut = unname(ms2$estimate), statistic = unname(ms2$statistic))
# time-dependent AUC (cumulative/dynamic, IPCW with the censoring KM), written out by hand:
# cases T_i <= t with an event, weight 1/G(T_i-); controls T_j > t; ties 1/2.
Gfit <- survfit(Surv(time, 1 - status) ~ 1, data = sc)
Gleft <- function(tt) { k <- findInterval(tt, Gfit$time, left.open = TRUE); ifelse(k == 0, 1, Gfit$surv[pmax(k, 1)]) }
tdauc <- function(t) { case <- sc$time <= t & sc$status == 1; ctrl <- sc$time > t
  w <- 1 / Gleft(sc$time[case]); xs <- sc$score[case]; xc <- sc$score[ctrl]
  num <- sum(w * sapply(xs, function(v) sum(xc < v) + 0.5 * sum(xc == v))); num / (sum(w) * length(xc)) }
s$tdauc_score <- list(t = c(5, 10, 15), auc = sapply(c(5, 10, 15), tdauc))
lung <- read.csv(file.path(ref, "lung.csv"))
ml <- coxph(Surv(time, status) ~ age + factor(ph.ecog) + sex, data = lung)
s$lung_cox_ecog <- list(n = ml$n, coef = unname(coef(ml)), se = unname(sqrt(diag(vcov(ml)))), loglik = ml$loglik)
out$survival <- s

# ---- calibration --------------------------------------------------------------------------------
lpb <- qlogis(bin$prob)
g1 <- glm(y ~ lpb, family = binomial, data = bin); g0 <- glm(y ~ offset(lpb), family = binomial, data = bin)
brier <- mean((bin$prob - bin$y)^2)
br <- quantile(bin$prob, probs = seq(0, 1, 0.1))
gr <- cut(bin$prob, breaks = unique(br), include.lowest = TRUE)
o1 <- tapply(bin$y, gr, sum); e1 <- tapply(bin$prob, gr, sum); nn <- tapply(bin$y, gr, length)
hl <- sum((o1 - e1)^2 / e1 + ((nn - o1) - (nn - e1))^2 / (nn - e1))
G <- sum(nn > 0)
lw <- lowess(bin$prob, bin$y)
pts <- seq(0.05, 0.6, by = 0.05)
nb <- sapply(pts, function(p) sum(bin$prob >= p & bin$y == 1) / m - sum(bin$prob >= p & bin$y == 0) / m * p / (1 - p))
prev <- mean(bin$y)
out$calibration <- list(brier = brier, brier_scaled = 1 - brier / (prev * (1 - prev)), slope = unname(coef(g1)[2]),
  slope_intercept = unname(coef(g1)[1]), intercept = unname(coef(g0)[1]), hl_chisq = hl, hl_df = G - 2,
  hl_p = pchisq(hl, G - 2, lower.tail = FALSE), lowess_x = lw$x, lowess_y = lw$y,
  dca = list(threshold = pts, net_benefit_model = nb, net_benefit_all = prev - (1 - prev) * pts / (1 - pts)))
out$provenance <- paste("Rscript scripts/stats_goldens.R; R", getRversion(), "survival", packageVersion("survival"),
  "pROC", packageVersion("pROC"), "maxstat", packageVersion("maxstat"))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"), file.path(out_dir, "goldens.json"))
