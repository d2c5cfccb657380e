"""Theory: mean-field signal propagation, free-probability Jacobian spectra, deep-linear dynamics, random walks."""
