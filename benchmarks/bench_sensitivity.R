# metafor side of benchmarks/bench_sensitivity.py: times leave1out(), influence() and gosh() on the
# data the Python script simulated, and writes the timings and the results for the agreement check.
# Usage: Rscript benchmarks/bench_sensitivity.R IN.json OUT.json   (run by bench_sensitivity.py)
suppressMessages({ library(metafor); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
d <- fromJSON(args[1])
tight <- list(tol = 1e-12, threshold = 1e-12, maxiter = 10000, stepadj = 0.5)
timed <- function(n, expr) {
  f <- substitute(expr); env <- parent.frame()
  t <- numeric(n); val <- NULL
  for (i in seq_len(n)) { t0 <- proc.time()[["elapsed"]]; val <- eval(f, env); t[i] <- proc.time()[["elapsed"]] - t0 }
  list(times = t, value = val)
}
out <- list(metafor_version = as.character(packageVersion("metafor")))
m <- rma(d$large$yi, d$large$vi, method = "REML", control = tight)
l1 <- timed(d$repeats_r, leave1out(m))
message("metafor leave1out: ", paste(round(l1$times, 2), collapse = " "), " s")
out$leave1out <- list(times = l1$times, estimate = l1$value$estimate, tau2 = l1$value$tau2)
inf <- timed(d$repeats_r, influence(m))
message("metafor influence: ", paste(round(inf$times, 2), collapse = " "), " s")
out$influence <- list(times = inf$times, rstudent = inf$value$inf$rstudent, cook_d = inf$value$inf$cook.d,
                      dffits = inf$value$inf$dffits, tau2_del = inf$value$inf$tau2.del)
g16 <- rma(d$gosh$yi, d$gosh$vi, method = "REML", control = tight)
g <- timed(d$repeats_r_gosh, gosh(g16))
message("metafor gosh: ", paste(round(g$times, 2), collapse = " "), " s")
out$gosh <- list(times = g$times, k = g$value$res$k, estimate = g$value$res$estimate, tau2 = g$value$res$tau2,
                 incl = unname(apply(g$value$incl, 1, function(r) paste(as.integer(r), collapse = ""))))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null"), args[2])
