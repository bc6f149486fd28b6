# What the R sides of the benchmarks against metafor share (sourced by bench_sensitivity.R,
# bench_regression.R and bench_network.R; the Python side is benchlib.py).
suppressMessages({ library(metafor); library(jsonlite) })

# Elapsed and CPU (user + system) seconds of one evaluation, and its value.
timed <- function(expr) {
  f <- substitute(expr); env <- parent.frame()
  t0 <- proc.time(); val <- eval(f, env); t <- proc.time() - t0
  list(elapsed = t[["elapsed"]], cpu = t[["user.self"]] + t[["sys.self"]], value = val)
}

# R and metafor versions, and the BLAS and LAPACK libraries this R process loaded.
r_info <- function(mode) {
  blas <- tryCatch(extSoftVersion()[["BLAS"]], error = function(e) "")
  list(metafor_version = as.character(packageVersion("metafor")), r_version = R.version.string,
       blas = if (nzchar(blas)) blas else sessionInfo()$BLAS, lapack = La_library(), mode = mode)
}

write_json_out <- function(x, path) writeLines(toJSON(x, auto_unbox = TRUE, digits = NA, na = "null"), path)
