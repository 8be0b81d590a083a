//! Sparse rows and a CSR matrix that linfa accepts as `Records`.

/// One sparse row: sorted column indices and their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVec {
    /// Column indices, strictly increasing.
    pub indices: Vec<u32>,
    /// The value of each column in `indices`, same length.
    pub values: Vec<f32>,
}

impl SparseVec {
    /// Empties the row, keeping its allocations for reuse.
    pub fn clear(&mut self) {
        self.indices.clear();
        self.values.clear();
    }

    /// Number of stored (non-zero) entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Sum of the squared values.
    pub fn squared_norm(&self) -> f32 {
        self.values.iter().map(|v| v * v).sum()
    }
}

/// Compressed sparse rows: the training matrix.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CsrMatrix {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
    n_cols: usize,
}

impl CsrMatrix {
    /// An empty matrix with `n_cols` columns and no rows.
    pub fn new(n_cols: usize) -> Self {
        Self { indptr: vec![0], indices: Vec::new(), values: Vec::new(), n_cols }
    }

    /// Appends `row` as the last row. Its indices must be below `n_cols`.
    pub fn push_row(&mut self, row: &SparseVec) {
        self.indices.extend_from_slice(&row.indices);
        self.values.extend_from_slice(&row.values);
        self.indptr.push(self.indices.len());
    }

    /// Appends every row of `other`, which must have the same number of columns.
    pub fn append(&mut self, other: &CsrMatrix) {
        for i in 0..other.n_rows() {
            let (idx, val) = other.row(i);
            self.indices.extend_from_slice(idx);
            self.values.extend_from_slice(val);
            self.indptr.push(self.indices.len());
        }
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Number of stored (non-zero) entries over all rows.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Row `i` as (column indices, values).
    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }

    /// The rows at `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> CsrMatrix {
        let mut out = CsrMatrix::new(self.n_cols);
        for &r in rows {
            let (idx, val) = self.row(r);
            out.indices.extend_from_slice(idx);
            out.values.extend_from_slice(val);
            out.indptr.push(out.indices.len());
        }
        out
    }
}

impl linfa::dataset::Records for CsrMatrix {
    type Elem = f32;

    fn nsamples(&self) -> usize {
        self.n_rows()
    }

    fn nfeatures(&self) -> usize {
        self.n_cols
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_and_select_keeps_order() {
        let mut m = CsrMatrix::new(5);
        m.push_row(&SparseVec { indices: vec![0, 3], values: vec![1.0, 2.0] });
        m.push_row(&SparseVec::default());
        m.push_row(&SparseVec { indices: vec![4], values: vec![3.0] });
        assert_eq!(m.n_rows(), 3);
        assert_eq!(m.row(1), (&[][..], &[][..]));
        let s = m.select(&[2, 0]);
        assert_eq!(s.row(0), (&[4u32][..], &[3.0f32][..]));
        assert_eq!(s.row(1).0, &[0, 3]);
        assert_eq!(linfa::dataset::Records::nfeatures(&s), 5);
    }
}
