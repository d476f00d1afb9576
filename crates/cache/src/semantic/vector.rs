//! The little vector arithmetic the index needs.

/// `v` scaled to length 1; `None` when it is empty, zero, or not finite.
pub fn unit(v: &[f32]) -> Option<Vec<f32>> {
    let norm = dot(v, v).sqrt();
    if v.is_empty() || !norm.is_finite() || norm <= 0.0 {
        return None;
    }
    Some(v.iter().map(|x| x / norm).collect())
}

/// The dot product of two vectors of the same length (of two unit vectors, their cosine).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
