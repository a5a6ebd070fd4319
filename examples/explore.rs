use rec_fast::batch::*;
use rec_fast::sampler::Method;
use rec_fast::divergence::*;
use rec_fast::distribution::Normal;
use std::time::Instant;

fn ks(samples: &mut Vec<f64>, loc: f64, scale: f64) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = samples.len() as f64;
    let mut d: f64 = 0.0;
    for (i, &x) in samples.iter().enumerate() {
        let f = rec_fast::math::normal_cdf((x - loc) / scale);
        d = d.max((f - i as f64 / n).abs()).max(((i + 1) as f64 / n - f).abs());
    }
    d * n.sqrt()
}

fn main() {
    let n = 20000;
    for &(m, s) in &[(1.0, 0.25), (0.0, 0.7), (3.0, 0.1), (-2.0, 0.01), (5.0, 0.05), (0.3, 0.001)] {
        let q = Normal::new(m, s).unwrap(); let p = Normal::new(0.0, 1.0).unwrap();
        let kl = normal_kl_divergence(&q, &p); let dmax = normal_max_divergence(&q, &p);
        let tl = vec![m; n]; let ts = vec![s; n]; let pl = vec![0.0; n]; let ps = vec![1.0; n];
        let pairs = NormalPairs { target_loc: &tl, target_scale: &ts, proposal_loc: &pl, proposal_scale: &ps };
        for method in [Method::Gprs, Method::GprsBranch] {
            if method == Method::Gprs && dmax > 14.0 { continue; }
            let mut settings = EncodeSettings::new(method, 1); settings.threads = Some(1);
            let t0 = Instant::now();
            let enc = encode_normal(&pairs, &settings).unwrap();
            let el = t0.elapsed().as_secs_f64();
            let bits: f64 = enc.indices.iter().map(|&i| rec_fast::code::universal::delta_length(i) as f64).sum::<f64>() / n as f64;
            let steps: f64 = enc.steps.iter().map(|&s| s as f64).sum::<f64>() / n as f64;
            let mut smp = enc.samples.clone();
            let k = ks(&mut smp, m, s);
            let header = settings.header(vec![n as u64]);
            let t1 = Instant::now();
            let dec = decode_normal(&header, &enc.indices, &pl, &ps, Some(1)).unwrap();
            let dl = t1.elapsed().as_secs_f64();
            assert!(dec.iter().zip(&enc.samples).all(|(a, b)| a.to_bits() == b.to_bits()));
            println!("{:8} m={m:5} s={s:6} KL={kl:6.2} Dmax={dmax:6.2} steps={steps:9.2} bits={bits:6.2} bound={:6.2} KS*sqrt(n)={k:.3} enc {:.0}/s dec {:.0}/s",
                method.name(), kl + (kl + 1.0).log2() + 6.0, n as f64 / el, n as f64 / dl);
        }
    }
}
