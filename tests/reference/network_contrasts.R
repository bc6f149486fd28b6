# Shared by generate_network.R and generate_decomp.R: the contrast-based layout of a network as the
# engine (src/depmeta/stats/network.py) builds it, and Senn 2013's mean differences.
bsort <- function(x) sort(unique(x), method = "radix")  # byte order, as Python's sorted()

# Pairwise rows (study, t1, t2, y = t1 - t2, v) -> contrasts against each study's baseline arm (its first
# treatment in byte order) with the study's design (its arms) and design x contrast cell, the block-diagonal
# within-study covariance V ((v_AB + v_AC - v_BC) / 2 off the diagonal, from the pairwise variances) and the
# between-study structure Sigma (1 on the diagonal, 1/2 between the contrasts of a multi-arm study).
contrast_data <- function(p) {
  rows <- list(); V <- list(); S <- list()
  for (s in unique(p$study)) {
    d <- p[p$study == s, ]
    arms <- bsort(c(d$t1, d$t2)); a <- arms[1]
    pair <- function(x, y) {
      i <- which(d$t1 == x & d$t2 == y); if (length(i)) return(c(d$y[i], d$v[i]))
      i <- which(d$t1 == y & d$t2 == x); c(-d$y[i], d$v[i])
    }
    others <- arms[-1]
    yv <- t(sapply(others, function(b) pair(a, b)))
    B <- diag(yv[, 2], nrow = length(others))
    if (length(others) > 1) for (i in seq_along(others)) for (j in seq_along(others)) if (i != j)
      B[i, j] <- (yv[i, 2] + yv[j, 2] - pair(others[i], others[j])[2]) / 2
    comp <- paste(a, others, sep = " vs ")
    design <- paste(arms, collapse = ":")
    rows[[s]] <- data.frame(study = s, t1 = a, t2 = others, yi = yv[, 1], vi = yv[, 2], comp = comp,
                            design = design, cell = paste(design, comp, sep = " / "))
    V[[s]] <- B
    S[[s]] <- matrix(0.5, length(others), length(others)) + diag(0.5, length(others))
  }
  list(dat = do.call(rbind, rows), V = bldiag(V), Sigma = bldiag(S))
}

# Senn 2013 (metadat senn2013.csv): mean differences from the arms (escalc "MD": v = sd1^2/n1 + sd2^2/n2) for
# every pair of arms, studies in the order of the file.
senn_pairwise <- function(path) {
  senn <- read.csv(path, stringsAsFactors = FALSE)
  sp <- do.call(rbind, lapply(split(senn, senn$study), function(d) {
    cb <- combn(nrow(d), 2)
    do.call(rbind, lapply(seq_len(ncol(cb)), function(c) {
      i <- cb[1, c]; j <- cb[2, c]
      e <- escalc("MD", m1i = d$mi[i], sd1i = d$sdi[i], n1i = d$ni[i], m2i = d$mi[j], sd2i = d$sdi[j],
                  n2i = d$ni[j])
      data.frame(study = d$study[1], t1 = d$treatment[i], t2 = d$treatment[j], y = as.numeric(e$yi),
                 v = as.numeric(e$vi))
    }))
  }))
  sp[order(match(sp$study, unique(senn$study))), ]
}
