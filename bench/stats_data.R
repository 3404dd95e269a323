# Synthetic survival + binary data for bench/stats.sh, and R's timings of the same tasks.
# Usage: Rscript bench/stats_data.R N OUT.bin REPS  -> writes OUT.bin, prints "task seconds" lines.
suppressMessages({library(survival); library(pROC)})
args <- commandArgs(TRUE); n <- as.integer(args[1]); out <- args[2]; reps <- as.integer(args[3])
set.seed(n)
x <- matrix(rnorm(n * 5), n, 5)
lin <- drop(x %*% c(0.5, -0.3, 0.2, 0.1, 0))
time <- round(rexp(n, 0.1 * exp(lin)), 2) + 0.01
cens <- runif(n, 0, 30)
status <- as.numeric(time <= cens); time <- pmin(time, round(cens, 2) + 0.01)
group <- as.numeric(x[, 1] > 0)
label <- as.numeric(runif(n) < plogis(lin))
score <- round(lin + rnorm(n), 3)
con <- file(out, "wb"); for (v in list(time, status, group, label, score)) writeBin(v, con)
for (j in 1:5) writeBin(x[, j], con); close(con)
d <- data.frame(time, status, group, label, score, x1 = x[, 1], x2 = x[, 2], x3 = x[, 3], x4 = x[, 4], x5 = x[, 5])
# CPU seconds (user + system), best of reps, as the C++ driver measures
best <- function(f) min(sapply(seq_len(reps), function(i) { s <- system.time(f()); s[["user.self"]] + s[["sys.self"]] }))
tm <- c(
  auc_delong = best(function() { r <- roc(d$label, d$score, direction = "<", levels = c(0, 1), quiet = TRUE); var(r, method = "delong"); ci.auc(r, method = "delong") }),
  km = best(function() survfit(Surv(time, status) ~ 1, data = d)),
  logrank = best(function() survdiff(Surv(time, status) ~ group, data = d)),
  cox5 = best(function() coxph(Surv(time, status) ~ x1 + x2 + x3 + x4 + x5, data = d)),
  cindex = best(function() concordance(Surv(time, status) ~ score, data = d, reverse = TRUE)))
for (k in names(tm)) cat(k, tm[[k]], "\n")
