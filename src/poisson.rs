//! The Poisson processes every sampler searches, simulated on the streams of [`random`](crate::random).
//!
//! A Poisson process on the real line with spatial distribution P and unit rate, restricted to
//! an interval B of P-mass m = P(B), has arrivals (T_n, X_n) with
//!
//! * T_n = T_{n−1} + E_n / m, E_n ~ Exp(1) i.i.d. (T_0 = 0, or the time the process starts
//!   after), so the inter-arrival times are Exp(m), and
//! * X_n ~ P restricted to B, independent of the times.
//!
//! On the whole line (m = 1) this is the process of global GPRS (Flamich 2023) and of the
//! Poisson functional representation (Li & El Gamal 2018). Restricting to B is what the
//! branch-and-bound searches do: by the restriction theorem the arrivals inside B form a
//! Poisson process of intensity P|_B, and by memorylessness the first of them after a time t
//! comes at t + E/m. J independent processes of rate 1/J each (T_n = T_{n−1} + J·E_n)
//! superpose to one of unit rate (parallel GPRS).
//!
//! **Draw order** (rules 2–5 of [`random`](crate::random)): every arrival consumes two u64 of
//! its stream, its time first (E_n = −ln u) then its location (u ↦ the point a fraction u of
//! the way through B's P-mass, [`TailInterval::point_at`]), also when the time is not needed
//! (decoders). Arrival n of a stream therefore starts after 2(n − 1) draws, and a decoder
//! jumps to it by `advance(2(n − 1))` in O(log n) ([`PoissonProcess::skip_to`]).
//!
//! The tree searches give every node H its own stream ([`ElementStream::for_node`]) holding one
//! arrival: the first arrival of the process in the node's interval after its parent's
//! ([`NodeArrivals`]). Its first u64 is the time, its second the location.

use std::borrow::BorrowMut;

use crate::distribution::{TailInterval, TailPoint};
use crate::error::Result;
use crate::random::{ElementStream, UnitDraw};

/// One arrival of a Poisson process: its time and its location in tail coordinates of P.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arrival {
    /// T_n.
    pub time: f64,
    /// X_n (map it to the real line with the proposal's quantile).
    pub point: TailPoint,
}

/// A Poisson process with spatial distribution P, simulated arrival by arrival on one stream
/// (owned, or borrowed as `&mut ElementStream`). It keeps the running time T_n.
#[derive(Clone, Debug)]
pub struct PoissonProcess<S = ElementStream> {
    stream: S,
    time: f64,
    /// 1/rate: T_n − T_{n−1} = time_scale · E_n / m. Exactly 1 for a unit-rate process, so
    /// that the products and quotients below round exactly as E_n / m alone.
    time_scale: f64,
}

impl<S: BorrowMut<ElementStream>> PoissonProcess<S> {
    /// The unit-rate process on `stream`, starting at time 0.
    #[inline(always)]
    pub fn new(stream: S) -> Self {
        Self::after(stream, 0.0)
    }

    /// The unit-rate process on `stream` whose arrivals come after `time` (a tree node's
    /// process starts at its parent's arrival).
    #[inline(always)]
    pub fn after(stream: S, time: f64) -> Self {
        PoissonProcess { stream, time, time_scale: 1.0 }
    }

    /// One of `processes` = J independent processes of rate 1/J each, T_n = T_{n−1} + J·E_n,
    /// whose superposition is the unit-rate process (parallel GPRS).
    #[inline(always)]
    pub fn superposed(stream: S, processes: u32) -> Self {
        PoissonProcess { stream, time: 0.0, time_scale: processes as f64 }
    }

    /// The time of the last arrival drawn (the start time before the first).
    #[inline(always)]
    pub fn time(&self) -> f64 {
        self.time
    }

    /// The next arrival on the whole line.
    #[inline(always)]
    pub fn next_arrival(&mut self) -> Result<Arrival> {
        // P(whole line) = 1 exactly ([`TailInterval::mass`] of `WHOLE_LINE`).
        self.arrival_in(&TailInterval::WHOLE_LINE, 1.0)
    }

    /// The next arrival of the process restricted to `interval`.
    #[inline(always)]
    pub fn next_arrival_in(&mut self, interval: &TailInterval) -> Result<Arrival> {
        self.arrival_in(interval, interval.mass())
    }

    /// The time half of the next arrival on the whole line: draws E_n and advances the clock.
    /// Its location must be drawn next, by [`next_point`](Self::next_point) (parallel GPRS
    /// queues a process by its next time and draws the location once it is the earliest).
    #[inline(always)]
    pub fn next_time(&mut self) -> f64 {
        let exponential = self.stream.borrow_mut().next_unit().exponential();
        self.advance(exponential, 1.0)
    }

    /// The time of the next arrival of the process restricted to `interval` (its location
    /// draw is left in the stream).
    #[inline(always)]
    pub fn next_time_in(&mut self, interval: &TailInterval) -> f64 {
        let exponential = self.stream.borrow_mut().next_unit().exponential();
        self.advance(exponential, interval.mass())
    }

    /// The location half of the arrival whose time [`next_time`](Self::next_time) just drew.
    #[inline(always)]
    pub fn next_point(&mut self) -> Result<TailPoint> {
        TailInterval::WHOLE_LINE.point_at(self.stream.borrow_mut().next_unit(), 1.0)
    }

    /// Jumps ahead so that the next arrival drawn is arrival `arrival` ≥ 1 (counting from the
    /// stream's start): `advance(2(arrival − 1))`, O(log arrival). The clock is not advanced:
    /// decoders only need locations.
    #[inline(always)]
    pub fn skip_to(&mut self, arrival: u64) {
        debug_assert!(arrival >= 1, "arrivals are numbered from 1");
        self.stream.borrow_mut().skip_arrivals(arrival.saturating_sub(1));
    }

    /// The location draw of the next arrival, its time draw consumed unread (decoders).
    #[inline(always)]
    pub fn next_location(&mut self) -> UnitDraw {
        self.stream.borrow_mut().next_location()
    }

    /// The location of the next arrival restricted to `interval`, its time draw consumed unread.
    #[inline(always)]
    pub fn next_location_in(&mut self, interval: &TailInterval) -> Result<TailPoint> {
        interval.point_at(self.next_location(), interval.mass())
    }

    /// Both draws of the next arrival in `interval` of P-mass `mass`, time first.
    #[inline(always)]
    fn arrival_in(&mut self, interval: &TailInterval, mass: f64) -> Result<Arrival> {
        let (exponential, location) = self.stream.borrow_mut().next_arrival();
        let time = self.advance(exponential, mass);
        Ok(Arrival { time, point: interval.point_at(location, mass)? })
    }

    /// T ← T + (1/rate) · E / m.
    #[inline(always)]
    fn advance(&mut self, exponential: f64, mass: f64) -> f64 {
        self.time += self.time_scale * exponential / mass;
        self.time
    }
}

/// The arrivals of a tree search's nodes for one element: node H draws from its own stream
/// [`ElementStream::for_node`]`(seed, stream_index, H)`, whose first u64 gives its time and
/// second its location, so any node can be reached without simulating the others.
#[derive(Clone, Copy, Debug)]
pub struct NodeArrivals {
    /// The element's key ([`element_key`](crate::random::element_key)), mixed once per search.
    element_key: u64,
}

impl NodeArrivals {
    /// The node streams of element `stream_index` under user seed `seed`.
    #[inline(always)]
    pub fn new(seed: u64, stream_index: u64) -> Self {
        NodeArrivals { element_key: crate::random::element_key(seed, stream_index) }
    }

    /// Node `heap_index`'s process, which starts after `time`.
    #[inline(always)]
    pub fn process(&self, heap_index: u128, time: f64) -> PoissonProcess {
        PoissonProcess::after(ElementStream::for_node_of_key(self.element_key, heap_index), time)
    }

    /// T_H = T_parent + E_H / P(B_H): the time of the first arrival in the node's interval
    /// B_H = `interval` after its parent's arrival at `parent_time` (0 for the root).
    #[inline(always)]
    pub fn first_time(&self, heap_index: u128, parent_time: f64, interval: &TailInterval) -> f64 {
        self.process(heap_index, parent_time).next_time_in(interval)
    }

    /// The location draw of node `heap_index` (the second u64 of its stream).
    #[inline(always)]
    pub fn location(&self, heap_index: u128) -> UnitDraw {
        self.process(heap_index, 0.0).next_location()
    }

    /// X_H ~ P restricted to B_H = `interval`: the location of node `heap_index`'s arrival.
    #[inline(always)]
    pub fn point_in(&self, heap_index: u128, interval: &TailInterval) -> Result<TailPoint> {
        self.process(heap_index, 0.0).next_location_in(interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_line_arrivals_follow_the_draw_order() {
        let mut stream = ElementStream::new(11, 5);
        let mut process = PoissonProcess::new(ElementStream::new(11, 5));
        let mut time = 0.0;
        for _ in 0..100 {
            let (exponential, location) = stream.next_arrival();
            time += exponential;
            let arrival = process.next_arrival().unwrap();
            assert_eq!(arrival.time.to_bits(), time.to_bits());
            assert_eq!(arrival.point, TailInterval::WHOLE_LINE.point_at(location, 1.0).unwrap());
        }
    }

    #[test]
    fn split_draws_match_whole_arrivals() {
        let mut whole = PoissonProcess::superposed(ElementStream::new(2, 9), 3);
        let mut halves = whole.clone();
        for _ in 0..50 {
            let arrival = whole.next_arrival().unwrap();
            assert_eq!(halves.next_time().to_bits(), arrival.time.to_bits());
            assert_eq!(halves.next_point().unwrap(), arrival.point);
        }
    }

    #[test]
    fn skipping_lands_on_the_arrival() {
        let mut walked = PoissonProcess::new(ElementStream::new(4, 4));
        let mut points = Vec::new();
        for _ in 0..20 {
            points.push(walked.next_arrival().unwrap().point);
        }
        for (n, point) in points.iter().enumerate() {
            let mut stream = ElementStream::new(4, 4);
            let mut jumped = PoissonProcess::new(&mut stream);
            jumped.skip_to(n as u64 + 1);
            assert_eq!(jumped.next_location_in(&TailInterval::WHOLE_LINE).unwrap(), *point);
        }
    }

    #[test]
    fn node_draws_are_time_then_location() {
        let nodes = NodeArrivals::new(8, 1);
        let interval = TailInterval { left: TailPoint::Lower(0.25), right: TailPoint::Upper(0.125) };
        let mut stream = ElementStream::for_node(8, 1, 6);
        let expected_time = 2.0 + stream.next_unit().exponential() / interval.mass();
        let expected_point = interval.point_at(stream.next_unit(), interval.mass()).unwrap();
        assert_eq!(nodes.first_time(6, 2.0, &interval).to_bits(), expected_time.to_bits());
        assert_eq!(nodes.point_in(6, &interval).unwrap(), expected_point);
    }
}
