#!/usr/bin/env Rscript
# Reference values for tests/test_stats*.cpp on four public data sets: pROC's aSAH and survival's
# aml, lung and ovarian (tests/data/stats/*.csv, exported unchanged from the packages; see
# tests/data/stats/PROVENANCE.md). Run from the repository root:  Rscript scripts/stats_reference.R
# Reads tests/data/stats/{aSAH,aml,lung,ovarian}.csv, writes tests/data/stats/expected.json.
# Needs r-cran-survival, r-cran-proc, r-cran-jsonlite. The committed file was made with R 4.2.2,
# survival 3.5-3 and pROC 1.18.0 (its "provenance" field).
suppressMessages({library(survival); library(pROC); library(jsonlite)})
dir <- "tests/data/stats"
d <- read.csv(file.path(dir, "aSAH.csv")); y <- as.integer(d$outcome=="Poor")
roc1 <- function(s) roc(y, d[[s]], direction="<", levels=c(0,1), quiet=TRUE)
auc_block <- function(s){ r <- roc1(s); ci <- ci.auc(r, method="delong"); list(auc=as.numeric(auc(r)), ci_delong=c(ci[1],ci[3]), var_delong=var(r, method="delong")) }
a <- list()
for (s in c("s100b","ndka")) a[[s]] <- auc_block(s)
a$wfns <- auc_block("wfns")
t1 <- roc.test(roc1("s100b"), roc1("wfns"), method="delong", paired=TRUE)
a$paired_s100b_vs_wfns <- list(z=unname(t1$statistic), p=t1$p.value, diff_ci=as.numeric(t1$conf.int))
best <- coords(roc1("s100b"), "best", best.method="youden", ret=c("threshold","sensitivity","specificity","tp","fp","tn","fn"), transpose=FALSE)
a$youden_s100b <- as.list(best[1,])
out <- list(aSAH=a)
aml <- read.csv(file.path(dir, "aml.csv")); aml$grp <- as.integer(aml$x=="Nonmaintained")
f <- survfit(Surv(time,status)~1, data=aml, conf.type="log"); s <- summary(f)
fl <- survfit(Surv(time,status)~1, data=aml, conf.type="log-log"); sl <- summary(fl)
out$aml <- list(km_pooled=list(time=s$time, n_risk=s$n.risk, n_event=s$n.event, surv=s$surv, std_err=s$std.err, lower_log=s$lower, upper_log=s$upper, lower_loglog=sl$lower, upper_loglog=sl$upper, median=unname(summary(f)$table["median"]), median_ci_log=unname(summary(f)$table[c("0.95LCL","0.95UCL")])))
sd <- survdiff(Surv(time,status)~grp, data=aml)
out$aml$logrank <- list(chisq=sd$chisq, obs=as.numeric(sd$obs), exp=as.numeric(sd$exp), var11=sd$var[1,1])
for (ties in c("efron","breslow")) { m <- coxph(Surv(time,status)~grp, data=aml, ties=ties)
  out$aml[[paste0("cox_",ties)]] <- list(coef=unname(coef(m)), se=unname(sqrt(diag(vcov(m)))), loglik=m$loglik, wald=unname(m$wald.test), score=unname(m$score)) }
lung <- read.csv(file.path(dir, "lung.csv")); lung$event <- as.integer(lung$status==2)
m <- coxph(Surv(time,event)~age+sex, data=lung, ties="efron")
cc <- concordance(m)
out$lung <- list(cox_efron_age_sex=list(coef=unname(coef(m)), se=unname(sqrt(diag(vcov(m)))), loglik=m$loglik, lr=2*diff(m$loglik), wald=unname(m$wald.test), score=unname(m$score), concordance=unname(cc$concordance), concordance_var=unname(cc$var)))
ov <- read.csv(file.path(dir, "ovarian.csv"))
m2 <- coxph(Surv(futime,fustat)~age+ecog.ps, data=ov)
out$ovarian <- list(cox_efron_age_ecog=list(coef=unname(coef(m2)), se=unname(sqrt(diag(vcov(m2)))), loglik=m2$loglik))
out$provenance <- paste("R", getRversion(), "survival", packageVersion("survival"), "pROC", packageVersion("pROC"))
writeLines(toJSON(out, digits=NA, auto_unbox=TRUE, pretty=TRUE), file.path(dir, "expected.json"))
