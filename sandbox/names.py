"""Word lists for realistic names. Order matters: the seeded generators index into these lists."""

from __future__ import annotations

TAG_BASES = [
    "Spring Sale", "Summer Sale", "Black Friday", "Cyber Monday", "UGC", "Giveaway", "Behind the Scenes",
    "Testimonial", "Product Launch", "New Arrivals", "Flash Sale", "Holiday", "Back to School", "Webinar",
    "Event", "Team Spotlight", "Customer Story", "How To", "Tips", "FAQ", "Promo", "Contest",
    "Throwback Thursday", "Motivation Monday", "Weekend Vibes", "Case Study", "Announcement", "Hiring",
    "Community", "Partnership", "Influencer", "Reels", "Stories", "Carousel", "Video", "Live", "Blog Post",
    "Newsletter", "Seasonal", "Evergreen", "Brand Awareness", "Lead Gen", "Retargeting", "Local SEO",
    "Review Request", "Grand Opening", "Anniversary", "Mother's Day", "Father's Day", "Valentine's Day",
    "Halloween", "Thanksgiving", "Christmas", "New Year", "Easter", "Earth Day", "Pride Month",
    "Small Business Saturday", "Giving Tuesday", "Clearance", "Bundle Deal", "Loyalty", "Referral",
    "Free Shipping", "Limited Edition", "Sneak Peek", "Unboxing", "Tutorial", "Recipe", "Before & After",
    "Meet the Team", "Client Win", "Milestone", "Award", "Press", "Podcast", "Q&A", "Poll", "Meme", "Quote",
    "Infographic", "Checklist", "Industry News", "Trending", "Challenge", "Collab", "Launch Week",
    "Pre-order", "Restock", "Sustainability", "Charity", "Volunteer", "Open House", "Workshop",
    "Masterclass", "Free Trial", "Demo", "Onboarding", "Feature Update", "Ambassador",
]
# The campaigns and series an agency runs in many of its locations at once: a location's tags with these plain
# names carry most of its posts (sandbox/posts.py), so the demo's campaigns span locations.
RUNNING_CAMPAIGNS = [
    "Spring Sale", "Summer Sale", "Giveaway", "Behind the Scenes", "Testimonial", "Tips", "Customer Story",
    "Team Spotlight", "How To", "New Arrivals", "Promo", "Flash Sale", "Webinar", "Recipe", "Meet the Team",
    "Black Friday", "Holiday", "Event",
]
# The hours (UTC) an account's posts go out at: people keep to a few habitual slots, which is what lets the
# best-time heatmap gather enough posts per weekday and hour to rank them.
POSTING_HOURS = (9, 9, 10, 10, 12, 13, 17, 18, 18, 19)
TAG_PREFIXES = ["VIP", "Local", "Online", "In-Store", "Mobile", "Members", "Early Bird", "Last Chance"]
TAG_SUFFIXES = [
    "2024", "2025", "2026", "Q1", "Q2", "Q3", "Q4", "January", "March", "May", "July", "September",
    "November", "Week 1", "Week 2", "ES", "FR", "Campaign", "Series", "Recap",
]

LOCATION_FIRST = [
    "Maple Street", "Bright Smile", "Summit", "Blue Harbor", "Golden Oak", "Riverside", "Sunset",
    "Evergreen", "Northside", "Copper Kettle", "Silver Lake", "Urban Roots", "Lakeview", "Red Barn",
    "Cedar Park", "Harbor Point", "Willow Creek", "Iron Forge", "Coastal", "Highland",
]
LOCATION_KIND = [
    "Bakery", "Dental", "Fitness", "Realty", "Auto Care", "Yoga Studio", "Coffee Co.", "Law Group",
    "Pet Grooming", "Salon & Spa", "Roofing", "Chiropractic", "Boutique", "Bistro", "Plumbing",
    "Med Spa", "Veterinary Clinic", "Insurance", "Landscaping", "Photography",
]
AGENCY_NAMES = [
    "Northwind Digital Agency", "Bluebird Marketing", "Pinnacle Growth Partners", "Spark & Co. Media",
    "Atlas Social Agency", "Lighthouse Leads",
]
TIMEZONES = [
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Phoenix",
    "Europe/London", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "America/Toronto",
    "Pacific/Auckland", "Asia/Tokyo", "America/Sao_Paulo", "Africa/Johannesburg",
]
STREETS = ["Main St", "Oak Ave", "Pine Rd", "Elm St", "Market St", "2nd Ave", "Lake Dr", "Hill Rd", "Park Blvd"]
CITIES = [
    ("Austin", "TX", "787"), ("Denver", "CO", "802"), ("Portland", "OR", "972"), ("Tampa", "FL", "336"),
    ("Columbus", "OH", "432"), ("Raleigh", "NC", "276"), ("Boise", "ID", "837"), ("Madison", "WI", "537"),
]
FIRST_NAMES = ["Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Priya", "Lucas", "Sofia", "Omar", "Chloe", "Ben"]
LAST_NAMES = ["Nguyen", "Smith", "Garcia", "Patel", "Johnson", "Kim", "Rossi", "Okafor", "Müller", "Brown"]

PLATFORMS = ["facebook", "instagram", "linkedin", "google", "tiktok", "youtube", "pinterest"]
ACCOUNT_TYPES = {
    "facebook": "page", "instagram": "business", "linkedin": "page", "google": "location",
    "tiktok": "profile", "youtube": "page", "pinterest": "profile",
}
# Metrics a platform does not report are missing from statistics answers, never zero.
UNREPORTED = {"google": frozenset({"followers", "reach"}), "pinterest": frozenset({"comments"})}
METRICS = ("posts", "impressions", "reach", "likes", "comments", "shares", "followers")

POST_LINES = [
    "Fresh picks just landed: come say hi!", "Our team's favourite tip of the week.",
    "Thank you for 5 stars, you made our day.", "Doors open at 9 tomorrow.",
    "Swipe to see the before and after.", "Last call for this weekend's offer.",
    "A quick how-to from our experts.", "Meet the newest member of the crew.",
]
